#!/usr/bin/env bash
# Pin a new image tag in the config repo and push it; prints the new commit sha.
#
#   CONFIG_REPO  config repo URL (with push access)
#   CLUSTER      cluster name (repo directory)
#   NAMESPACE    namespace (repo directory)
#   DEPLOYMENT   Deployment (and container) name
#   TAG          image tag to deploy
set -euo pipefail
: "${CONFIG_REPO:?}" "${CLUSTER:?}" "${NAMESPACE:?}" "${DEPLOYMENT:?}" "${TAG:?}"

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
  git commit --quiet -m "Deploy $DEPLOYMENT $TAG to $CLUSTER/$NAMESPACE"
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
