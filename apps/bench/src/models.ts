import { modelDefaults } from '@resnet-ts/train';

/** The comma-separated model names, each checked before any is measured or trained. */
export function modelList(list: string): string[] {
  const models = list
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (models.length === 0) throw new Error('--models: expected a comma-separated list of model names');
  for (const model of models) modelDefaults(model);
  return models;
}
