export const VERSION = "0.1.0";
/** The runtime-spec version runts implements (`--version`, `features`' ociVersionMax). */
export const SPEC_VERSION = "1.2.0";
