export { parseRelationField, formatRelationGroup, type Relation, type RelationGroup } from "./parse-relation-field.js";
export { parseDpkgStatus, type DebianPackage } from "./parse-dpkg-status.js";
export { DpkgDatabase, loadDpkgDatabase, packageRef } from "./dpkg-database.js";
export { resolveDebianClosure, type DebianClosure, type DebianClosureOptions } from "./resolve-debian-closure.js";
export {
  copyDebianPackage,
  listPackageFiles,
  type CopiedDebianPackage,
  type CopyDebianPackageOptions,
  type DebianPackageId,
} from "./package-files.js";
export { HostPathResolver } from "./host-path-resolver.js";
export { mergedUsrLinks } from "./merged-usr-links.js";
export { readDpkgDiversions, type DpkgDiversion } from "./dpkg-diversions.js";
