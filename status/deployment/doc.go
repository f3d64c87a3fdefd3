// Package deployment holds what the GitHub and GitLab deployment sinks
// share: the environment a namespace deploys to and its URL (templates), and
// the phase a commit's deployment shows after each transition, including a
// carried commit's and one superseded before it applied.
package deployment
