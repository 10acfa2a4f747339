export { downloadFile, type DownloadFileOptions } from "./download-file.js";
export { unpackArchive, detectArchiveKind, type ArchiveKind, type UnpackResult } from "./unpack-archive.js";
export { validateFetchArgs, type FetchArgs, type FetchBuilderName } from "./validate-fetch-args.js";
export { parseSha256 } from "./parse-sha256.js";
