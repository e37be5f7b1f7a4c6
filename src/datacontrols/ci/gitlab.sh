#!/usr/bin/env bash
# The GitLab CI/CD component's job script (templates/openai-datacontrols.yml): `gitlab.sh COMMAND` runs
# `reconcile` for validate, plan or apply (the core is reconcile.sh, shared with the GitHub Action) and tells
# people what it found:
#
#   plan.md, apply.md   the plan or the apply's result (or the error), an artifact exposed on the merge request
#   gl-plan.json        plan: the Terraform-report counts, for the merge request widget
#   datacontrols.env    plan with DC_SAVE_PLAN=true: DATACONTROLS_CHANGES=true|false, a dotenv report for apply
#
# On a merge request (DC_BASE_BRANCH, the target branch) the plan shows only what the merge request changes,
# compared with the target branch's desired state, and one note, marked, is created then updated on the merge
# request (it needs DATACONTROLS_GITLAB_TOKEN, a token with `api` scope: CI_JOB_TOKEN cannot write notes).
# Exit: 0 in sync or applied; a plan's 2 (changes pending) passes unless DC_FAIL_ON_CHANGES=true (the
# scheduled drift check); anything else fails. Every input comes through the environment (DC_*), set by the
# component's `variables:`: nothing here is expanded by GitLab.
set -uo pipefail
set +e

command="${1:-plan}"
desired="${DC_DESIRED_STATE:-desired_state}"
plan_file="${DC_PLAN_FILE:-plan.json}"
work="${TMPDIR:-/tmp}/openai-datacontrols-run"
note_marker="<!-- openai-datacontrols-plan${DC_ORG:+:${DC_ORG}} -->"  # one note per organization

# shellcheck source=reconcile.sh
source "$(dirname "${BASH_SOURCE[0]}")/reconcile.sh"
dc_error() { echo "error: $1"; }
dc_init

if [ "$command" = apply ] && [ "${DATACONTROLS_CHANGES-true}" != true ]; then
  echo "Nothing to apply: the plan found the organization equal to ${desired}."
  exit 0
fi

# The target branch's tip, fetched (a shallow clone of the merge request's branch may not hold it). The
# remote's address carries the job's token: it is cut out of what git says.
if [ "$command" = plan ] && [ -n "${DC_BASE_BRANCH:-}" ] && [ -z "${DC_BASE_REF:-}" ]; then
  tracking="refs/remotes/origin/${DC_BASE_BRANCH}"
  if git fetch --quiet --no-tags --depth 1 origin "+refs/heads/${DC_BASE_BRANCH}:${tracking}" 2> "$work/fetch.txt"; then
    DC_BASE_REF="$(git rev-parse "$tracking")"
  else
    sed -E 's#//[^/@[:space:]]+@#//[MASKED]@#g' "$work/fetch.txt" >&2
    dc_error "could not fetch the target branch ${DC_BASE_BRANCH} to compare the merge request with"
    exit 1
  fi
fi

[ "$command" = plan ] && plan_args+=(--gitlab-report gl-plan.json)
dc_run "the target branch's commit could not be checked out" || exit 1
[ "$command" = validate ] || cp "$body" "$command.md"
if [ "$command" = plan ] && [ "${DC_SAVE_PLAN:-false}" = true ]; then
  echo "DATACONTROLS_CHANGES=$([ "$ec" -eq 2 ] && echo true || echo false)" > datacontrols.env
fi

# One note per merge request, found by its marker and updated; a failure here never fails the job.
note() {
  [ "$command" = plan ] && [ "${DC_NOTE:-true}" = true ] && [ -n "${CI_MERGE_REQUEST_IID:-}" ] || return 0
  if [ -z "${DATACONTROLS_GITLAB_TOKEN:-}" ]; then
    echo "The plan is in plan.md (the job's artifacts). For a note on the merge request, set the CI/CD variable DATACONTROLS_GITLAB_TOKEN (a token with api scope)."
    return 0
  fi
  { printf '%s\n' "$note_marker"; cat "$body"; } > "$work/note.md"
  python - "$work/note.md" "$note_marker" <<'PY' || echo "Could not post the plan on the merge request; it is in plan.md (the job's artifacts)."
import json, os, sys, urllib.error, urllib.request

path, marker = sys.argv[1], sys.argv[2]
api = os.environ["CI_API_V4_URL"].rstrip("/")
notes = f"{api}/projects/{os.environ['CI_PROJECT_ID']}/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
headers = {"PRIVATE-TOKEN": os.environ["DATACONTROLS_GITLAB_TOKEN"], "Content-Type": "application/json"}


def call(method, url, data=None):
    with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as answer:
        return json.load(answer), answer.headers.get("X-Next-Page") or ""


try:
    with open(path, encoding="utf-8") as text:
        body = json.dumps({"body": text.read()}).encode()
    ours, page = None, "1"
    for _ in range(20):  # newest first, 100 a page: an updated note is near the top
        listed, page = call("GET", f"{notes}?sort=desc&order_by=updated_at&per_page=100&page={page}")
        ours = next((n["id"] for n in listed if str(n.get("body", "")).startswith(marker)), None)
        if ours is not None or not page:
            break
    if ours is None:
        call("POST", notes, body)
    else:
        call("PUT", f"{notes}/{ours}", body)
except (OSError, ValueError, KeyError, TypeError) as exc:
    # Never the exception's text: the reason only (an HTTP status or the kind of failure).
    print(f"the GitLab API answered {exc.code}" if isinstance(exc, urllib.error.HTTPError) else type(exc).__name__)
    sys.exit(1)
PY
}
note

case "$ec" in
  0) exit 0 ;;
  2)
    if [ "$command" = plan ] && [ "${DC_FAIL_ON_CHANGES:-false}" != true ]; then
      exit 0
    fi
    echo "The organization differs from ${desired}: the plan above (also in plan.md) says how."
    ;;
esac
exit 1
