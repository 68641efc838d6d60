import sharp from 'sharp';

/**
 * A look-alike of Flickr's "This photo is no longer available" card (the real one is not in this
 * repository): a light grey card, a darker photo icon (frame, sky, a hill) above the middle, and a
 * line of dark text-like strokes below it. Drawn in proportions, so every size is the same card.
 */
export function placeholderPixels(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3, 0xdd);
  const box = (x0: number, y0: number, x1: number, y1: number, grey: number) => {
    for (let y = Math.round(y0 * height); y < Math.round(y1 * height); y++)
      for (let x = Math.round(x0 * width); x < Math.round(x1 * width); x++)
        data.fill(grey, (y * width + x) * 3, (y * width + x) * 3 + 3);
  };
  box(0.38, 0.2, 0.62, 0.55, 0x99); // the icon's frame
  box(0.4, 0.23, 0.6, 0.52, 0xf2); // its picture
  box(0.44, 0.4, 0.56, 0.52, 0x77); // a hill in it
  // "This photo is no longer available": words as dark strokes, the line centred.
  const words = [0.05, 0.07, 0.03, 0.06, 0.04, 0.09];
  let x = 0.5 - (words.reduce((a, b) => a + b, 0) + 0.015 * (words.length - 1)) / 2;
  for (const w of words) {
    box(x, 0.66, x + w, 0.71, 0x44);
    x += w + 0.015;
  }
  return data;
}

/** The card encoded: PNG, or JPEG at `quality`. */
export function placeholderImage(width: number, height: number, quality?: number): Promise<Buffer> {
  const image = sharp(placeholderPixels(width, height), { raw: { width, height, channels: 3 } });
  return (quality === undefined ? image.png() : image.jpeg({ quality })).toBuffer();
}
