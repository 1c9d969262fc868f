export { createPrivateSocket, type PrivateSocket } from './privateSocket';
export { HelperStream } from './helperStream';
export {
  HELPER_SCRIPT,
  buildHelperArgv,
  buildSeveralHelperArgv,
  formatCommandForDisplay,
  withPrivilegePrefix,
  type HelperLaunch,
  type PrivilegeMode,
} from './helperCommand';
export { ProbeSessionReader, type ProbeSessionCounters, type ProbeSessionReaderOptions } from './probeSessionReader';
