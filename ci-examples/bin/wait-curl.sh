#!/usr/bin/env bash
# Wait for a commit with nothing but curl: re-issues GET /wait/<sha> until the
# answer is final, printing each step. When a `syncgate` binary is on PATH
# (or SYNCGATE_BIN names one) it runs `syncgate wait` instead; SYNCGATE_BIN=curl
# forces curl. Exit codes match `syncgate wait`: 0 deployed, 1 failed,
# 2 timed out, 3 usage error or unknown sha; the input is judged as
# `syncgate wait` judges its own, either way (a TIMEOUT of 0, more than a
# year or not a number, a URL that is not http(s) with a host, exit 3 at
# once).
#
#   SYNCGATE_URL  base URL of syncgate    SHA          commit to wait for
#   WAIT_TOKEN    bearer token (optional) TIMEOUT      seconds in all (default 900)
#   NAMESPACE     one namespace only (optional)
#   RESULT_FILE   optional: gets SYNCGATE_STATE=, SYNCGATE_REASON= and
#                 SYNCGATE_STATUS_URL= lines (a dotenv file; one line each)
#
# The CI building blocks (ci-examples/github-action, gitlab, jenkins) run it.
set -uo pipefail
state="" reason=""

# finish records the outcome in RESULT_FILE and exits with its code.
finish() {
  local code=$1
  if [ -n "${RESULT_FILE:-}" ]; then
    {
      echo "SYNCGATE_STATE=$state"
      echo "SYNCGATE_REASON=$(printf '%s' "$reason" | tr '\r\n' '  ' | cut -c1-1000)"
      echo "SYNCGATE_STATUS_URL=${SYNCGATE_URL:-}/status/${SHA:-}"
    } >"$RESULT_FILE"
  fi
  exit "$code"
}

# usage ends the wait at once, as `syncgate wait` ends on input no retry
# can make work: exit 3, the reason on stderr and in RESULT_FILE.
usage() {
  state=error reason=$1
  echo "$reason" >&2
  finish 3
}

# The input is judged before waiting, either way, by the rules `syncgate
# wait` judges its own by (its --timeout flag, cmd/syncgate/usage.go, read
# as a number of seconds here; waitclient.ParseBaseURL): a wait that cannot
# work is not waited on. TestWaitScriptJudgesAsTheBinary holds them alike.
[ -n "${SYNCGATE_URL:-}" ] && [ -n "${SHA:-}" ] || usage "SYNCGATE_URL and SHA are required"
shopt -s nocasematch
[[ $SHA =~ ^[0-9a-f]{7,40}$ ]] || usage "\"$SHA\" is not a commit sha (7 to 40 hex characters)"
[[ $SYNCGATE_URL =~ ^https?://[^/?#]+(/[^?#]*)?$ ]] ||
  usage "\"$SYNCGATE_URL\" is not a syncgate URL (http(s)://host[:port][/prefix])"
shopt -u nocasematch
while [ "${SYNCGATE_URL%/}" != "$SYNCGATE_URL" ]; do SYNCGATE_URL=${SYNCGATE_URL%/}; done
TIMEOUT=${TIMEOUT:-900}
case "$TIMEOUT" in ''|*[!0-9]*) usage "TIMEOUT: \"$TIMEOUT\" is not a positive number of seconds" ;; esac
seconds=${TIMEOUT#"${TIMEOUT%%[!0]*}"} # no leading zeros: bash would read 010 as octal
[ -n "$seconds" ] || usage "TIMEOUT: \"$TIMEOUT\" is not a positive number of seconds"
if [ ${#seconds} -gt 8 ] || [ "$seconds" -gt 31536000 ]; then
  usage "TIMEOUT: \"$TIMEOUT\" is more than 31536000 seconds (a year)"
fi
TIMEOUT=$seconds
short=${SHA:0:7}

# field prints the first string value of key in a JSON body (the answer's own
# fields come before its per-namespace verdicts).
field() {
  local v
  v=$(grep -oE "\"$1\":\"([^\"\\\\]|\\\\.)*\"" "$2" | head -n 1) || return 0
  v=${v#\"$1\":\"}
  v=${v%\"}
  v=${v//\\\"/\"}
  printf '%b' "$v"
}

bin=${SYNCGATE_BIN:-$(command -v syncgate || true)}
if [ -n "$bin" ] && [ "$bin" != curl ]; then
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
  "$bin" wait "$SHA" --url "$SYNCGATE_URL" ${NAMESPACE:+--namespace "$NAMESPACE"} --timeout "${TIMEOUT}s" 2>&1 | tee "$out"
  code=${PIPESTATUS[0]}
  last=$(tail -n 1 "$out")
  case "$code" in
    0) state=deployed ;;
    1) state=failed reason=${last#*failed: } ;;
    2) state=timeout reason=$last ;;
    *) state=error reason=$last ;;
  esac
  finish "$code"
fi

deadline=$(( $(date +%s) + TIMEOUT ))
auth=()
[ -n "${WAIT_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $WAIT_TOKEN")
ns=""
[ -n "${NAMESPACE:-}" ] && ns="&namespace=$NAMESPACE"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
delay=1 seen=""
echo "$short: waiting on $SYNCGATE_URL${NAMESPACE:+ (namespace $NAMESPACE)}"
while [ "$(date +%s)" -lt "$deadline" ]; do
  left=$(( deadline - $(date +%s) ))
  poll=$(( left < 60 ? left : 60 ))
  [ "$poll" -ge 1 ] || break
  # progress=true answers 408 at each step, so the log shows the rollout.
  code=$(curl -sS -o "$body" -w '%{http_code}' --max-time $(( poll + 30 )) "${auth[@]}" \
    "$SYNCGATE_URL/wait/$SHA?timeout=${poll}s&progress=true$ns" 2>/dev/null)
  state=$(field state "$body") reason=$(field reason "$body")
  case "$code" in
    200) echo "$short: deployed"; finish 0 ;;
    409) echo "$short: failed: $reason" >&2; finish 1 ;;
    408)                                                   # still in progress: ask again
      delay=1
      step=$state
      ready=$(grep -oE '"ready":[0-9]+' "$body" | head -n 1) total=$(grep -oE '"total":[0-9]+' "$body" | head -n 1)
      [ -n "$total" ] && step="$state (${ready#*:}/${total#*:} ready)"
      [ -n "$total" ] && [ -z "$ready" ] && step="$state (0/${total#*:} ready)"
      [ "$step" != "$seen" ] && echo "$short: $step"
      seen=$step ;;
    400|401|404)
      reason=$(field error "$body"); [ -n "$reason" ] || reason=$(cat "$body")
      state=error
      echo "$short: error $code: $reason" >&2; finish 3 ;;
    *) sleep "$delay"; delay=$(( delay < 16 ? delay * 2 : 30 )) ;;  # gateway restarting or unreachable
  esac
done
state=timeout reason="not final after ${TIMEOUT}s"
echo "$short: timed out: $reason" >&2
finish 2
