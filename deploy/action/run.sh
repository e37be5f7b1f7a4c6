#!/usr/bin/env bash
# The action's one step (action.yml): run `reconcile` for DC_COMMAND and tell people what it found.
#
#   validate  the files, offline. Problems are annotations on the files' lines.
#   plan      read-only. On a pull request, with DC_BASE_REF, only what the pull request changes, compared
#             with the base commit's desired state (a worktree). Exit 2 (changes pending) passes; an error
#             or a difference the Admin API cannot change (--fail-on-uncorrectable) fails the step.
#   apply     the saved plan DC_PLAN_FILE, exactly, or nothing if the organization moved since.
#
# The step summary gets the plan (or the error) once; on a pull request one comment, marked, is created or
# updated; with DC_DRIFT_ISSUE one issue is kept open while the organization differs. Every input comes
# through the environment (DC_*), set by action.yml: nothing here is expanded by the workflow engine.
# Exit codes are handled one by one (2 is success for a plan), so errexit is off even if inherited.
set -uo pipefail
set +e

command="${DC_COMMAND:-plan}"
desired="${DC_DESIRED_STATE:-desired_state}"
plan_file="${DC_PLAN_FILE:-plan.json}"
work="${RUNNER_TEMP:-/tmp}/openai-datacontrols-run"
# One comment and one issue per organization: the jobs of a matrix over organizations keep apart.
comment_marker="<!-- openai-datacontrols-plan${DC_ORG:+:${DC_ORG}} -->"
issue_marker="<!-- openai-datacontrols-drift${DC_ORG:+:${DC_ORG}} -->"

# What to run and what people read are shared with the GitLab component; this file is GitHub's side of it.
# shellcheck source=../../src/datacontrols/ci/reconcile.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../src/datacontrols/ci/reconcile.sh"
dc_error() { echo "::error title=openai-datacontrols::$1"; }
dc_init

output() { echo "$1=$2" >> "${GITHUB_OUTPUT:-/dev/null}"; }

pr_number() {
  [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] || return 0
  python - "$GITHUB_EVENT_PATH" <<'PY'
import json, sys
event = json.load(open(sys.argv[1], encoding="utf-8"))
number = (event.get("pull_request") or {}).get("number")
print(number if isinstance(number, int) else "")
PY
}

# One comment per pull request, found by its marker and updated; a failure here never fails the step.
comment() {
  [ "${DC_COMMENT:-true}" = true ] && [ "${GITHUB_EVENT_NAME:-}" = pull_request ] || return 0
  local number id
  number="$(pr_number)"
  [ -n "$number" ] || return 0
  { printf '%s\n' "$comment_marker"; cat "$body"; } > "$work/comment.md"
  id="$(gh api --paginate "repos/${GITHUB_REPOSITORY}/issues/${number}/comments" \
          --jq ".[] | select(.body | startswith(\"${comment_marker}\")) | .id" | tail -n 1)" || id=""
  if [ -n "$id" ]; then
    gh api --method PATCH "repos/${GITHUB_REPOSITORY}/issues/comments/${id}" -F body=@"$work/comment.md" > /dev/null
  else
    gh api --method POST "repos/${GITHUB_REPOSITORY}/issues/${number}/comments" -F body=@"$work/comment.md" > /dev/null
  fi || echo "::warning title=openai-datacontrols::could not post the plan on the pull request"
}

# One issue, found by its marker: opened or updated while the plan has changes or fails, closed when clean.
drift_issue() {
  [ "${DC_DRIFT_ISSUE:-false}" = true ] || return 0
  local number
  number="$(gh api --paginate "repos/${GITHUB_REPOSITORY}/issues?state=open&per_page=100" \
              --jq ".[] | select(.pull_request == null) | select((.body // \"\") | startswith(\"${issue_marker}\")) | .number" \
            | head -n 1)" || number=""
  { printf '%s\n' "$issue_marker"; cat "$body"; } > "$work/issue.md"
  if [ "$ec" -eq 0 ]; then
    [ -z "$number" ] || gh api --method PATCH "repos/${GITHUB_REPOSITORY}/issues/${number}" -f state=closed > /dev/null
  elif [ -n "$number" ]; then
    gh api --method PATCH "repos/${GITHUB_REPOSITORY}/issues/${number}" -F body=@"$work/issue.md" > /dev/null
  else
    gh api --method POST "repos/${GITHUB_REPOSITORY}/issues" \
      -f title="openai-datacontrols: the organization differs from ${desired}" -F body=@"$work/issue.md" > /dev/null
  fi || echo "::warning title=openai-datacontrols::could not update the drift issue"
}

if ! dc_run "check out with fetch-depth: 0"; then
  output exit-code 1
  exit 1
fi
[ "$command" = plan ] && [ "${DC_SAVE_PLAN:-false}" = true ] && output plan-file "$plan_file"

[ -s "$body" ] && cat "$body" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
output exit-code "$ec"
output changes "$([ "$ec" -eq 2 ] && echo true || echo false)"
if [ "$command" = plan ]; then
  comment
  drift_issue
fi
case "$ec" in
  0) exit 0 ;;
  2) [ "$command" = plan ] && exit 0 ;;
esac
exit 1
