#!/bin/bash
# A repo of 1,000 commits (3 files of 2 kB rewritten each, among 100) whose
# objects are in 1,001 packs, one per commit, as 1,000 go-git fetches leave
# a clone, for BenchmarkManyPacks (sync/gitsource/internal/packs):
#   bench/bigrepo/many-packs.sh /tmp/many
#   PACKS_BENCH_REPO=/tmp/many go test -run - -bench ManyPacks ./sync/gitsource/internal/packs/
#   PACKS_BENCH_REPO=/tmp/many go test -run - -bench 'Merge$' ./sync/gitsource/internal/packs/
set -e
D=${1:?usage: many-packs.sh DIR}
rm -rf $D; mkdir -p $D; cd $D
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git init -q --initial-branch=main; git config gc.auto 0
blob() { head -c 1500 /dev/urandom | base64 -w 76; }
{
  for c in $(seq 0 1000); do
    echo "commit refs/heads/main"; echo "committer t <t@e> $((1700000000+c)) +0000"; echo "data 4"; printf "c%03d\n" $((c%1000))
    if [ $c = 0 ]; then files=$(seq 0 99); else files="$(( (c*3+1)%100 )) $(( (c*3+2)%100 )) $(( (c*3+3)%100 ))"; fi
    for f in $files; do b=$(blob); echo "M 644 inline team/f$f.yaml"; echo "data ${#b}"; echo "$b"; done
  done
} | git fast-import --quiet
# the objects fast-import packed are borrowed while each commit is packed apart
mkdir -p .git/borrowed/pack; mv .git/objects/pack/* .git/borrowed/pack/
echo "$PWD/.git/borrowed" > .git/objects/info/alternates
prev=
for sha in $(git rev-list --reverse main); do
  if [ -z "$prev" ]; then echo $sha; else printf '%s\n^%s\n' $sha $prev; fi | git pack-objects --revs -q .git/objects/pack/pack >/dev/null
  prev=$sha
done
rm .git/objects/info/alternates; rm -rf .git/borrowed
git reset -q --hard main
git fsck --no-dangling
ls .git/objects/pack/*.pack | wc -l
