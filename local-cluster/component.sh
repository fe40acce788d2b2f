#!/usr/bin/env bash
# Stops, starts, pauses or resumes ONE component of the running local cluster,
# acting only on the pid up.sh recorded. `stop` keeps the component's exact
# command line, so `start` runs it again just as up.sh did.
#   component.sh stop|start|pause|resume NAME    (NAME: a file in $PID_DIR, e.g. kube-apiserver)
source "$(dirname "$0")/lib.sh"

action="${1:?usage: component.sh stop|start|pause|resume NAME}"
name="${2:?usage: component.sh stop|start|pause|resume NAME}"
pid_file="$PID_DIR/$name.pid"
argv_file="$PID_DIR/$name.argv"

case "$action" in
  stop)
    pid_alive "$name" || die "$name is not running"
    pid="$(cat "$pid_file")"
    cp "/proc/$pid/cmdline" "$argv_file"
    kill -CONT "$pid" 2>/dev/null || true  # a paused process cannot act on SIGTERM
    kill -TERM "$pid"
    # kube-apiserver may keep draining long requests past a short wait: then SIGKILL.
    if ! (wait_for 20 "$name (pid $pid) to exit" bash -c "! kill -0 $pid"); then
      kill -KILL "$pid" 2>/dev/null || true
      wait_for 10 "$name (pid $pid) to die" bash -c "! kill -0 $pid"
    fi
    rm -f "$pid_file"
    log "$name stopped (pid $pid)"
    ;;
  start)
    if pid_alive "$name"; then log "$name already running"; exit 0; fi
    [[ -s "$argv_file" ]] || die "no recorded command line for $name (stop it with this script first)"
    mapfile -d '' -t argv <"$argv_file"
    rm -f "$pid_file"
    start_component "$name" "${argv[@]}"
    rm -f "$argv_file"
    log "$name started (pid $(cat "$pid_file"))"
    ;;
  pause | resume)
    pid_alive "$name" || die "$name is not running"
    kill "-$([[ $action == pause ]] && echo STOP || echo CONT)" "$(cat "$pid_file")"
    ;;
  *) die "unknown action $action" ;;
esac
