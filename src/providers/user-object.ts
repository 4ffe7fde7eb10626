import { ApiObject } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { Json } from '../constructs/workload/deployment-json';

/**
 * The JSON of a user object a router reads (an Ingress, an ApisixRoute), rendered on first use and
 * then kept: the Canary is created after that object is configured, and one router serves one Canary.
 */
export function userObject(construct: IConstruct): () => Json {
  let json: Json | undefined;
  return () => (json ??= ApiObject.of(construct).toJson() as Json);
}
