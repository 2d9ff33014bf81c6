/** Header parameters the middleware fills in; Eka's specs declare them required. */
type AuthHeaderName = 'Authorization' | 'authorization' | 'auth' | 'Auth' | 'client-id' | 'Client-Id';

type StripHeaderParams<P> = P extends { header?: infer H }
  ? Omit<P, 'header'> &
      (Exclude<keyof NonNullable<H>, AuthHeaderName> extends never
        ? { header?: never }
        : { header: Omit<NonNullable<H>, AuthHeaderName> })
  : P;

type StripOperation<Op> = Op extends { parameters: infer P }
  ? Omit<Op, 'parameters'> & { parameters: StripHeaderParams<P> }
  : Op;

/**
 * Eka's OpenAPI files mark `Authorization` and `client-id` as required header parameters, which
 * would force every typed call to pass them. `createClient<WithEkaAuth<paths>>()` removes them from
 * the types: {@link ekaAuthMiddleware} sets them.
 */
export type WithEkaAuth<Paths> = {
  [Path in keyof Paths]: { [Method in keyof Paths[Path]]: StripOperation<Paths[Path][Method]> };
};
