export { type InstrumentEkaAuthOptions, instrumentEkaAuth } from './instrumentEkaAuth';
export { attributeNames, metricNames } from './metricNames';
