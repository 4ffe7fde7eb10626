import { Json } from '../constructs/workload/deployment-json';
import { RoutingObject } from './router';

/**
 * Taking over an object the user already has (issue 11). Flagger's routers Get the object of the
 * generated name and Update a copy of it, so whatever they do not set (ownerReferences, finalizers,
 * other top-level fields) stays; these helpers build that copy for the routers' `adopt`.
 */

type Meta = Record<string, string> | undefined;

/** The existing object with the generated apiVersion and top-level fields (spec), and the given labels and annotations. */
export function adoptWith(generated: RoutingObject, existing: Json, labels: Meta, annotations: Meta): RoutingObject {
  const out: Json = structuredClone(existing);
  for (const [k, v] of Object.entries(generated)) if (k !== 'metadata') out[k] = structuredClone(v);
  const metadata: Json = { ...out.metadata, name: generated.metadata.name };
  // A cluster-scoped object has no namespace; the generated one says where the object lives.
  if (generated.metadata.namespace === undefined) delete metadata.namespace;
  else metadata.namespace = generated.metadata.namespace;
  setOrDelete(metadata, 'labels', labels);
  setOrDelete(metadata, 'annotations', annotations);
  out.metadata = metadata;
  return out as RoutingObject;
}

/** What most routers do (contour.go, traefik.go, gloo.go, kuma.go ... Reconcile): spec, labels and annotations from the Canary. */
export function adoptReplace(generated: RoutingObject, existing: Json): RoutingObject {
  return adoptWith(generated, existing, generated.metadata.labels, generated.metadata.annotations);
}

/** Routers that Update only the spec (istio.go reconcileDestinationRule, smi*.go and apisix.go Reconcile): the user's metadata stays. */
export function adoptSpec(generated: RoutingObject, existing: Json): RoutingObject {
  return adoptWith(generated, existing, existing.metadata?.labels, existing.metadata?.annotations);
}

/** Routers that never update an existing object of that name (appmesh_v1beta2.go's VirtualService): it stays as the user wrote it. */
export function adoptAsIs(generated: RoutingObject, existing: Json): RoutingObject {
  return adoptWith({ ...existing, metadata: generated.metadata } as RoutingObject, existing, existing.metadata?.labels, existing.metadata?.annotations);
}

function setOrDelete(metadata: Json, key: string, value: Meta): void {
  if (value && Object.keys(value).length > 0) metadata[key] = { ...value };
  else delete metadata[key];
}
