# Shared by sametime.sh and ab.sh (sourced, not run): the tool checks, the
# CPU-time and median helpers, and one same-time round of two servers.
# The caller sets tmp (a scratch directory) before calling server_rounds.

command -v wrk >/dev/null || { echo "wrk is not installed"; exit 1; }
command -v taskset >/dev/null || { echo "taskset is not installed"; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is not installed (apt-get install time)"; exit 1; }

hz=$(getconf CLK_TCK)
# cputicks PID: the process's user+system time so far, in clock ticks.
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# median: the median of the numbers on standard input, one per line.
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
# waitport PORT: wait (up to 10 s) until 127.0.0.1:PORT accepts.
waitport() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; }

# server_rounds MODE ROUNDS SECS NAME1 PID1 PORT1 NAME2 PID2 PORT2 RATIO
# runs ROUNDS rounds in which one wrk -t1 -c64 per server (both on CPU 1)
# loads the two servers at once for SECS seconds, plain keep-alive or 16
# pipelined (MODE plain or pipelined), and prints each round's requests
# per server CPU-second and their ratio (first over second, labelled
# RATIO), then the median ratio.
server_rounds() {
  local mode=$1 rounds=$2 secs=$3 n1=$4 p1=$5 port1=$6 n2=$7 p2=$8 port2=$9 label=${10}
  local args=() r a0 b0 a1 b1 w1 w2
  [ "$mode" = pipelined ] && args=(-s http/bench/pipeline.lua)
  : >"$tmp/r"
  for r in $(seq "$rounds"); do
    a0=$(cputicks "$p1"); b0=$(cputicks "$p2")
    taskset -c 1 wrk -t1 -c64 -d"${secs}s" "${args[@]}" "http://127.0.0.1:$port1/hello" >"$tmp/w1" & w1=$!
    taskset -c 1 wrk -t1 -c64 -d"${secs}s" "${args[@]}" "http://127.0.0.1:$port2/hello" >"$tmp/w2" & w2=$!
    wait "$w1" "$w2"
    a1=$(cputicks "$p1"); b1=$(cputicks "$p2")
    awk -v m="$mode" -v r="$r" -v n1="$n1" -v n2="$n2" -v l="$label" \
      -v q1="$(awk '/requests in/ {print $1}' "$tmp/w1")" -v q2="$(awk '/requests in/ {print $1}' "$tmp/w2")" \
      -v c1=$((a1 - a0)) -v c2=$((b1 - b0)) -v hz="$hz" 'BEGIN {
        e1 = q1 / (c1 / hz); e2 = q2 / (c2 / hz)
        printf "%s round %d: %s %.0f req/cpu-s, %s %.0f req/cpu-s, %s %.3f\n", m, r, n1, e1, n2, e2, l, e1 / e2
        print e1 / e2 > "/dev/stderr" }' 2>>"$tmp/r"
  done
  printf "server %s, %s vs %s: median %s %.3f over %d rounds\n" "$mode" "$n1" "$n2" "$label" "$(median <"$tmp/r")" "$rounds"
}
