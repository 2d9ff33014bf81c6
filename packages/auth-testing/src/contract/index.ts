export {
  CONTRACT_SCENARIOS,
  type ContractBody,
  type ContractBodyKind,
  type ContractClient,
  type ContractFactory,
  type ContractOptions,
  type ContractRequest,
  type ContractResponse,
  type ContractScenario,
  runAdapterContract,
  SAFE_TO_LOG_SCENARIOS,
} from './runAdapterContract';
