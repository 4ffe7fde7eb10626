/**
 * Flagger inputs several suites write into a repository: podinfo's Deployment as the Flagger
 * docs show it (two replicas, the http port 9898). One copy, so a fix reaches every suite.
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
