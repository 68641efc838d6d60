import { parseModelName } from '@resnet-ts/resnet-core';

/** The comma-separated model names, each checked before any is measured or trained. */
export function modelList(list: string): string[] {
  const models = list
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (models.length === 0) throw new Error('--models: expected a comma-separated list of model names');
  for (const model of models) parseModelName(model); // resnet-core's names; the error lists them
  return models;
}
