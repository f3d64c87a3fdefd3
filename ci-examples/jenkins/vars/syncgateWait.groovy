// syncgateWait: block until syncgate reports a config-repo commit deployed,
// from a Jenkins shared library (this directory is the library's root).
//
//   def r = syncgateWait(url: 'https://syncgate.prod.example.com', sha: env.CONFIG_SHA,
//                        namespace: 'web-prod', tokenCredentialsId: 'syncgate-wait-token',
//                        timeout: 900)
//   echo "${r.state}: ${r.reason}"
//
// Deployed: returns [state, reason, statusUrl]. Failed or not final in time:
// the build fails with the reason (failOnError: false returns it instead).
// Runs ci-examples/bin/wait-curl.sh from the workspace (script: to change),
// which needs only curl, or uses the syncgate binary when it is on PATH.
def call(Map args = [:]) {
  for (key in ['url', 'sha']) {
    if (!args[key]) {
      error "syncgateWait: ${key} is required"
    }
  }
  def script = args.script ?: 'ci-examples/bin/wait-curl.sh'
  def resultFile = ".syncgate-${env.BUILD_NUMBER ?: 'local'}.env"
  def settings = [
    "SYNCGATE_URL=${args.url}",
    "SHA=${args.sha}",
    "NAMESPACE=${args.namespace ?: ''}",
    "TIMEOUT=${args.timeout != null ? args.timeout : 900}", // 0 is passed on (and refused), not taken as unset
    "RESULT_FILE=${resultFile}",
  ]
  def code
  def run = { ->
    withEnv(settings) {
      code = sh(returnStatus: true, script: "bash '${script}'")
    }
  }
  if (args.tokenCredentialsId) {
    withCredentials([string(credentialsId: args.tokenCredentialsId, variable: 'WAIT_TOKEN')]) { run() }
  } else {
    run()
  }
  def result = [state: 'error', reason: '', statusUrl: "${args.url}/status/${args.sha}"]
  if (fileExists(resultFile)) {
    readFile(resultFile).split('\n').each { line ->
      def i = line.indexOf('=')
      if (i > 0) {
        def key = line.substring(0, i)
        def value = line.substring(i + 1)
        if (key == 'SYNCGATE_STATE') { result.state = value }
        if (key == 'SYNCGATE_REASON') { result.reason = value }
        if (key == 'SYNCGATE_STATUS_URL') { result.statusUrl = value }
      }
    }
    sh "rm -f '${resultFile}'"
  }
  // Exit codes: 0 deployed, 1 failed, 2 timed out, 3 usage error or unknown sha.
  if (code != 0 && args.failOnError != false) {
    error "syncgate: ${args.sha.take(7)} ${result.state}: ${result.reason} (${result.statusUrl})"
  }
  return result
}
