#!/usr/bin/env bash
# Pin a new image tag in the config repo and push it; prints the new commit sha.
#
#   CONFIG_REPO  config repo URL (with push access)
#   CLUSTER      cluster name (repo directory)
#   NAMESPACE    namespace (repo directory)
#   DEPLOYMENT   Deployment (and container) name
#   TAG          image tag to deploy
#
# The application commit the image was built from, when known, goes into
# the commit message as a "Syncgate-Origin: <repo>@<sha>" trailer, and
# syncgate then reports the rollout on that commit too:
#
#   ORIGIN_REPO  the application repo: owner/name on the config repo's forge,
#                or its URL (default: the CI's own, GITHUB_REPOSITORY on
#                GitHub Actions, CI_PROJECT_URL on GitLab CI, GIT_URL on Jenkins)
#   ORIGIN_SHA   the application commit (default: GITHUB_SHA, CI_COMMIT_SHA,
#                GIT_COMMIT)
set -euo pipefail
: "${CONFIG_REPO:?}" "${CLUSTER:?}" "${NAMESPACE:?}" "${DEPLOYMENT:?}" "${TAG:?}"

origin_repo=${ORIGIN_REPO:-${GITHUB_REPOSITORY:-${CI_PROJECT_URL:-${GIT_URL:-}}}}
origin_sha=${ORIGIN_SHA:-${GITHUB_SHA:-${CI_COMMIT_SHA:-${GIT_COMMIT:-}}}}
trailer=()
if [[ -n $origin_repo && -n $origin_sha ]]; then
  if [[ ! $origin_sha =~ ^([0-9a-f]{40}|[0-9a-f]{64})$ ]]; then
    echo "ORIGIN_SHA must be a full commit sha, not '$origin_sha'" >&2
    exit 2
  fi
  origin_repo=$(printf '%s' "$origin_repo" | sed -E 's#^(https?://)[^/@]*@#\1#') # no credentials in a commit message
  trailer=(--trailer "Syncgate-Origin: $origin_repo@$origin_sha")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet --depth 20 "$CONFIG_REPO" "$work/repo"
cd "$work/repo"
git config user.name "${GIT_AUTHOR_NAME:-ci}"
git config user.email "${GIT_AUTHOR_EMAIL:-ci@example.com}"

pin="$CLUSTER/$NAMESPACE/$DEPLOYMENT.deployment"
mkdir -p "$(dirname "$pin")"
printf '%s\n' "$TAG" > "$pin"
git add "$pin"
if git diff --cached --quiet; then
  echo "$pin already pins $TAG" >&2
else
  git commit --quiet -m "Deploy $DEPLOYMENT $TAG to $CLUSTER/$NAMESPACE" "${trailer[@]}"
fi

# Another pipeline may have pushed meanwhile: rebase and try again.
for attempt in 1 2 3 4 5; do
  if git push --quiet origin HEAD 2>/dev/null; then
    git rev-parse HEAD
    exit 0
  fi
  echo "push rejected (attempt $attempt); rebasing" >&2
  git pull --quiet --rebase origin "$(git rev-parse --abbrev-ref HEAD)"
done
echo "could not push to $CONFIG_REPO" >&2
exit 1
