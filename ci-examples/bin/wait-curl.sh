#!/usr/bin/env bash
# Wait for a commit with nothing but curl: re-issues GET /wait/<sha> until the
# answer is final. Exit codes match `syncgate wait`: 0 deployed, 1 failed,
# 2 timed out, 3 usage error or unknown sha.
#
#   SYNCGATE_URL  base URL of syncgate    SHA       commit to wait for
#   WAIT_TOKEN    bearer token (optional) TIMEOUT   seconds in all (default 900)
#   NAMESPACE     one namespace only (optional)
set -uo pipefail
: "${SYNCGATE_URL:?}" "${SHA:?}"
deadline=$(( $(date +%s) + ${TIMEOUT:-900} ))
auth=()
[ -n "${WAIT_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $WAIT_TOKEN")
ns=""
[ -n "${NAMESPACE:-}" ] && ns="&namespace=$NAMESPACE"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
delay=1
while [ "$(date +%s)" -lt "$deadline" ]; do
  left=$(( deadline - $(date +%s) ))
  poll=$(( left < 60 ? left : 60 ))
  [ "$poll" -ge 1 ] || break
  code=$(curl -sS -o "$body" -w '%{http_code}' --max-time $(( poll + 30 )) "${auth[@]}" \
    "$SYNCGATE_URL/wait/$SHA?timeout=${poll}s$ns" 2>/dev/null)
  case "$code" in
    200) echo "deployed: $(cat "$body")"; exit 0 ;;
    409) echo "failed: $(cat "$body")" >&2; exit 1 ;;
    408) delay=1 ;;                                     # still rolling out: ask again
    400|401|404) echo "error $code: $(cat "$body")" >&2; exit 3 ;;
    *) sleep "$delay"; delay=$(( delay < 16 ? delay * 2 : 30 )) ;;  # gateway restarting or unreachable
  esac
done
echo "timed out waiting for $SHA" >&2
exit 2
