// Set from package.json by tsup's `define` (the build) and jest's `globals` (the tests).
declare const __RESNET_CLI_VERSION__: string;

/** This CLI's version, as published. */
export const CLI_VERSION: string = __RESNET_CLI_VERSION__;
