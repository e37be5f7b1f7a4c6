# shellcheck shell=bash
# The pipelines' shared core, sourced by the GitHub Action (deploy/action/run.sh) and by the GitLab component
# (gitlab.sh beside this file): which `reconcile` to run for a command, the base commit's desired state in a
# worktree, and the text people read (the plan, and the error when the command failed). The caller sets
# `command`, `desired`, `plan_file` and `work`, defines `dc_error MESSAGE` (how its platform shows an error)
# and may add `plan_args` (its own report files); everything else comes from the DC_* environment.
#
# DC_ORG: in a repository of several organizations (orgs/NAME/), the one this job reads (`--org NAME`); one
# job per organization (a matrix). `desired` becomes orgs/NAME. Without it, validate checks every
# organization at once (`--all-orgs`) when there is an orgs/ tree and no desired-state folder.

dc_init() {
  out="$work/out.md"
  err="$work/err.txt"
  body="$work/body.md"
  ec=1
  plan_args=()
  mkdir -p "$work"
  : > "$out"
  : > "$err"
  : > "$body"
  target=(--desired-state "$desired")
  if [ -n "${DC_ORG:-}" ]; then
    target=(--org "$DC_ORG")
    desired="orgs/${DC_ORG}"
  fi
}

# An organization's name goes into markers and messages: one directory name, nothing a shell or jq reads.
# Given with a desired-state folder other than the default, one of them would be ignored: an error.
check_org() {
  [ -n "${DC_ORG:-}" ] || return 0
  if ! [[ "$DC_ORG" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    dc_error "org must be the name of a directory in orgs/ (letters, digits, '.', '_', '-'), not '${DC_ORG}'"
    return 1
  fi
  if [ -n "${DC_DESIRED_STATE:-}" ] && [ "$DC_DESIRED_STATE" != desired_state ]; then
    dc_error "org (orgs/${DC_ORG}) and desired-state (${DC_DESIRED_STATE}) name two folders: give one of them"
    return 1
  fi
}

# reconcile ARGS: stdout to $out, stderr to $err; both to the log afterwards; sets $ec. The step summary is
# the caller's to write, once: reconcile's own (for markdown plans) is turned off.
run_reconcile() {
  env -u GITHUB_STEP_SUMMARY reconcile "$@" > "$out" 2> "$err"
  ec=$?
  cat "$out"
  cat "$err" >&2
}

# What people read: the plan, and when the command failed, why (the last lines of stderr).
compose() {
  grep -v '^::' "$out" > "$body" || true
  if [ "$ec" -ne 0 ] && [ "$ec" -ne 2 ]; then
    {
      [ -s "$body" ] && printf '\n'
      printf '### openai-datacontrols: `reconcile %s` failed (exit %s)\n\n```text\n' "$command" "$ec"
      tail -n 40 "$err"
      printf '```\n'
    } >> "$body"
  fi
}

# The base commit DC_BASE_REF checked out apart, so a plan shows only what the change itself does. Returns 1,
# having said so with $1 as the hint, when the commit is not in the checkout.
base_worktree() {
  local base="$work/base"
  git worktree remove --force "$base" > /dev/null 2>&1 || rm -rf "$base"
  if ! git worktree add --detach "$base" "$DC_BASE_REF" > /dev/null 2> "$work/git.txt"; then
    cat "$work/git.txt" >&2
    dc_error "the base commit ${DC_BASE_REF} is not in the checkout: $1"
    return 1
  fi
  # A base without a desired state (the change that adds it) is compared with nothing: the whole plan.
  [ -d "$base/$desired" ] && plan_args+=(--base-desired-state "$base/$desired")
  return 0
}

# Run `command`; sets $ec and composes $body. Returns 1 (reconcile not run, the error already shown) for an
# unknown command or a missing base commit; $1 is the hint for the latter.
dc_run() {
  check_org || return 1
  case "$command" in
    validate)
      if [ -z "${DC_ORG:-}" ] && [ ! -e "$desired" ] && [ -d orgs ]; then
        run_reconcile validate --all-orgs  # several organizations: one check covers them all
      else
        run_reconcile validate "${target[@]}"
      fi
      ;;
    plan)
      local args=(--dry-run --format markdown --detailed-exitcode --fail-on-uncorrectable "${target[@]}")
      if [ -n "${DC_BASE_REF:-}" ]; then
        base_worktree "$1" || return 1
      fi
      [ "${DC_SAVE_PLAN:-false}" = true ] && args+=(--out "$plan_file")
      run_reconcile "${args[@]}" "${plan_args[@]}"
      ;;
    apply)
      local args=(apply "$plan_file" "${target[@]}" --format markdown --max-plan-age "${DC_MAX_PLAN_AGE:-1h}")
      [ -n "${DC_ALLOW_UNSAFE:-}" ] && args+=(--allow-unsafe "$DC_ALLOW_UNSAFE")
      run_reconcile "${args[@]}"
      ;;
    *)
      dc_error "command must be validate, plan or apply, not '${command}'"
      return 1
      ;;
  esac
  compose
  return 0
}
