#!/usr/bin/env bash
# Start clamd on loopback as the test suite's virus scanner, with the suite's own signature
# database (never a download: freshclam does not run). Does nothing when clamd already answers.
#   CLAMD_PORT   TCP port on 127.0.0.1 (default 3310)
#   CLAMD        the binary (default: clamd on PATH, or /usr/sbin/clamd)
set -euo pipefail
cd "$(dirname "$0")/.."

port="${CLAMD_PORT:-3310}"
dir="$PWD/.cache/clamav"
clamd="${CLAMD:-$(command -v clamd || echo /usr/sbin/clamd)}"

# clamd answers "PONG" to "zPING\0"; a subshell so that a refused connection only fails it.
ping_clamd() (
  exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
  printf 'zPING\0' >&3
  [[ "$(timeout 2 head -c 4 <&3)" == PONG ]]
) 2>/dev/null

if ping_clamd; then
  echo "clamd answering on 127.0.0.1:$port"
  exit 0
fi

mkdir -p "$dir/db"
# ClamAV refuses to start with an empty database. Two body signatures (.ndb,
# Name:TargetType:Offset:Hex): the EICAR test file, and a marker string of the suite's own.
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
marker='PLAYER-PLATFORM-TEST-MALWARE-MARKER-7f3a9c'
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
cat >"$dir/db/player-platform-test.ndb" <<NDB
Eicar-Test-Signature:0:*:$(hex "$eicar")
PlayerPlatform.Test.Marker:0:*:$(hex "$marker")
NDB

cat >"$dir/clamd.conf" <<CONF
DatabaseDirectory $dir/db
TCPSocket $port
TCPAddr 127.0.0.1
PidFile $dir/clamd.pid
LogFile $dir/clamd.log
LogTime yes
Foreground no
StreamMaxLength 512M
MaxScanSize 1024M
MaxFileSize 512M
CONF
if [[ $(id -u) == 0 ]]; then
  # As root clamd would switch to the clamav user, who must be able to read the database.
  echo "User root" >>"$dir/clamd.conf"
fi

"$clamd" --config-file="$dir/clamd.conf"
for _ in $(seq 60); do
  if ping_clamd; then
    echo "clamd answering on 127.0.0.1:$port"
    exit 0
  fi
  sleep 0.5
done
echo "clamd did not answer on 127.0.0.1:$port; last lines of $dir/clamd.log:" >&2
tail -n 20 "$dir/clamd.log" >&2 || true
exit 1
