export type { Diagnosis, DiagnosisId } from './diagnoseFailure';
export { type GetTokenOptions, type GetTokenResult, getToken } from './getToken';
export type { PublicClaims } from './jwtClaims';
export { CLI_USAGE, DEFAULT_BASE_URL } from './parseCliArgs';
export { type CliIo, type CliStream, EXIT_FAILED, EXIT_OK, EXIT_USAGE, runCli } from './runCli';
export { type DoctorOptions, type DoctorReport, type DoctorStep, runDoctor } from './runDoctor';
