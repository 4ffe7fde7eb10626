/**
 * Flagger inputs several suites write into a repository: podinfo's Deployment as the Flagger
 * docs show it (two replicas, the http port 9898) and a small Istio Canary for it. One copy, so a
 * fix reaches every suite.
 */
export function podinfoDeploymentYaml(namespace: string, image: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: ${namespace}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ${image}
          ports:
            - name: http
              containerPort: 9898
`;
}

/** An Istio Canary for podinfo: steps of 10 up to 20, the built-in success rate at 99%. */
export function podinfoCanaryYaml(namespace: string): string {
  return `apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: ${namespace}
spec:
  provider: istio
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 20
    stepWeight: 10
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
`;
}
