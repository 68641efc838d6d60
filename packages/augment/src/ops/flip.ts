import { flipHorizontal, flipVertical } from '../geometry';
import { probability } from './fields';
import { defineOp } from './op';

export const flipOp = defineOp({
  name: 'flip',
  summary: 'Mirrors left to right, then top to bottom, each with its probability (one draw each)',
  fields: {
    horizontal: probability('probability of a left-right mirror', '0.5'),
    vertical: probability('probability of a top-bottom mirror', '0'),
  },
  apply: (input, step, random) => {
    let image = input;
    if (random() < (step.horizontal ?? 0.5)) image = flipHorizontal(image);
    if (random() < (step.vertical ?? 0)) image = flipVertical(image);
    return image;
  },
});
