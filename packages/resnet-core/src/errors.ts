/** Thrown for an invalid builder option; `field` names the offending option. */
export class ResNetConfigError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ResNetConfigError';
    this.field = field;
  }
}
