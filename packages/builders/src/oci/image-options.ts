/**
 * The validated arguments of makeContainerImage that shape the image (everything but the layers).
 * Only the config fields a user set are present, so the config JSON carries nothing the user did not ask for.
 */
export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
}

export interface ImageOptions {
  maxLayers: number;
  config: ImageConfig;
  name: string;
  tag: string;
  /** Go GOARCH name, e.g. amd64. */
  architecture: string;
  /** Go GOOS name, e.g. linux. */
  os: string;
  /** RFC 3339 time of the image and of every history entry. */
  created: string;
}

/** The config keys validateImageOptions accepts, in the order they are listed in errors. */
export const IMAGE_CONFIG_KEYS = [
  "Env",
  "Entrypoint",
  "Cmd",
  "WorkingDir",
  "User",
  "ExposedPorts",
  "Volumes",
  "Labels",
  "StopSignal",
] as const;
