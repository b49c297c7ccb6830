#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft, broker + controller in one JVM) on
# 127.0.0.1 for local runs and integration tests. The jars come from Maven Central (see
# pom.xml beside this script) and are cached; nothing else is downloaded.
#
#   kafka.sh fetch                         download the jars (once), print the libs dir
#   kafka.sh start --data DIR [...]        start a broker in DIR, print 127.0.0.1:PORT
#   kafka.sh stop --data DIR               stop it
#   kafka.sh status --data DIR             running/stopped and its bootstrap address
#   kafka.sh create-topic --bootstrap B --topic T [...]
#
# Needs: java (>= 17), python3, kcat; mvn only when the jars are not cached yet.
# See docs/kafka.md. `kafka.sh COMMAND --help` describes each command.
set -euo pipefail
shopt -s inherit_errexit

SCRIPT_DIR="$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")"
readonly SCRIPT_DIR
readonly POM="${SCRIPT_DIR}/pom.xml"
readonly BROKER_LOG4J="${SCRIPT_DIR}/log4j2.properties"
readonly TOOLS_LOG4J="${SCRIPT_DIR}/log4j2-tools.properties"
readonly PROBE_TOPIC="_gatehouse_probe"
readonly MIN_JAVA=17
EXTRA_PROPS=()          # start --set KEY=VALUE
SASL=0                  # start --sasl (or a DIR started with it before)
PROBE_DIR=""            # the DIR whose client properties the readiness probe uses
# The principals of the SASL mode: the broker's own (a super user) and one per service.
readonly SASL_USERS=(admin onboarding customers sales-bridge notifier)
PROBE_TOPIC_CREATED=0   # set by probe_ready

PROG="$(basename -- "$0")"
readonly PROG

# ---------------------------------------------------------------------------- helpers

log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "${PROG}" "$*" >&2
  exit 1
}
usage_error() {
  printf '%s: error: %s\n' "${PROG}" "$1" >&2
  printf "Run '%s %s --help' for usage.\n" "${PROG}" "$2" >&2
  exit 2
}

need_cmd() { # need_cmd CMD HINT
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"
}

now_ms() { local t="${EPOCHREALTIME/[.,]/}"; printf '%s\n' "$((10#${t} / 1000))"; }

elapsed() { # elapsed START_MS -> seconds since then, one decimal
  local d=$(($(now_ms) - $1))
  printf '%d.%d\n' "$((d / 1000))" "$((d % 1000 / 100))"
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

check_port() { # check_port OPTION VALUE COMMAND
  if ! is_uint "$2" || ((10#$2 < 1 || 10#$2 > 65535)); then
    usage_error "$1 must be a TCP port (1-65535), got '$2'" "$3"
  fi
}

abs_dir() { # abs_dir DIR -> creates DIR, prints its absolute physical path
  mkdir -p -- "$1" || die "cannot create directory '$1'"
  (cd -- "$1" && pwd -P)
}

# The Kafka version: GATEHOUSE_KAFKA_VERSION, else <kafka.version> in pom.xml.
kafka_version() {
  if [[ -n ${GATEHOUSE_KAFKA_VERSION:-} ]]; then
    printf '%s\n' "${GATEHOUSE_KAFKA_VERSION}"
    return
  fi
  local v
  v="$(sed -n 's|.*<kafka.version>\([^<]*\)</kafka.version>.*|\1|p' "${POM}" | head -n 1)"
  [[ -n ${v} ]] || die "no <kafka.version> in ${POM}"
  printf '%s\n' "${v}"
}

cache_root() {
  if [[ -n ${GATEHOUSE_CACHE_DIR:-} ]]; then
    printf '%s\n' "${GATEHOUSE_CACHE_DIR}"
  elif [[ -n ${HOME:-} ]]; then
    printf '%s\n' "${HOME}/.cache/gatehouse"
  else
    die "neither GATEHOUSE_CACHE_DIR nor HOME is set"
  fi
}

java_bin() {
  if [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]]; then
    printf '%s\n' "${JAVA_HOME}/bin/java"
  else
    need_cmd java "install a Java ${MIN_JAVA}+ runtime, e.g. apt-get install default-jre-headless"
    command -v java
  fi
}

check_java() { # check_java JAVA
  local line major
  line="$("$1" -version 2>&1 | head -n 1)" || die "'$1 -version' failed"
  major="$(sed -n 's/.*version "\([0-9]*\).*/\1/p' <<<"${line}")"
  if [[ -z ${major} ]] || ((major < MIN_JAVA)); then
    die "Kafka 4 needs Java ${MIN_JAVA} or newer; '$1' is: ${line}"
  fi
}

# pom.xml's checksum plus the version: a cache whose marker differs is fetched again.
fetch_stamp() {
  printf 'kafka %s pom %s\n' "$1" "$(sha256sum <"${POM}" | cut -d' ' -f1)"
}

# ensure_libs -> prints the libs dir, fetching the jars first unless the cache is complete.
ensure_libs() {
  local version root base libs marker stamp
  version="$(kafka_version)"
  root="$(cache_root)"
  mkdir -p -- "${root}" || die "cannot create cache directory '${root}'"
  root="$(cd -- "${root}" && pwd -P)"
  base="${root}/kafka-${version}"
  libs="${base}/libs"
  marker="${base}/.fetched"
  stamp="$(fetch_stamp "${version}")"
  mkdir -p -- "${base}"

  if [[ -f ${marker} && "$(cat -- "${marker}")" == "${stamp}" && -d ${libs} ]]; then
    printf '%s\n' "${libs}"
    return
  fi

  # Serialise concurrent fetches (parallel test runs) on the same cache.
  local lock_fd
  exec {lock_fd}>"${base}/.lock"
  flock "${lock_fd}"
  if [[ -f ${marker} && "$(cat -- "${marker}")" == "${stamp}" && -d ${libs} ]]; then
    exec {lock_fd}>&-
    printf '%s\n' "${libs}"
    return
  fi

  need_cmd mvn "install Maven, e.g. apt-get install maven, or fill the cache ${libs} by other means"
  log "fetching Apache Kafka ${version} jars from Maven Central into ${libs}"
  rm -f -- "${marker}"
  local tmp
  tmp="$(mktemp -d "${base}/fetch.XXXXXX")"
  cp -- "${POM}" "${tmp}/pom.xml"
  # Maven's local repository: a throw-away one inside the fetch dir unless
  # GATEHOUSE_MAVEN_REPO names one. (Java takes user.home from the passwd entry, not from
  # $HOME, so Maven's default ~/.m2 can be unwritable, e.g. /nonexistent for nobody.)
  local m2="${GATEHOUSE_MAVEN_REPO:-${tmp}/m2}"
  if ! (cd -- "${tmp}" && mvn -q -B -Dstyle.color=never -f pom.xml \
    -Dmaven.repo.local="${m2}" -Dkafka.version="${version}" \
    dependency:copy-dependencies \
    -DoutputDirectory="${tmp}/libs" -DincludeScope=runtime 2>&1 </dev/null |
    sed 's/\x1b\[[0-9;]*m//g') >&2; then # Debian's Maven 3.8 prints colour codes even with -B
    rm -rf -- "${tmp}"
    die "mvn could not fetch the Kafka ${version} jars (see the messages above)"
  fi
  if [[ ! -f "${tmp}/libs/kafka_2.13-${version}.jar" || ! -f "${tmp}/libs/kafka-tools-${version}.jar" ]]; then
    rm -rf -- "${tmp}"
    die "mvn finished but kafka_2.13-${version}.jar / kafka-tools-${version}.jar are missing"
  fi
  rm -rf -- "${libs}"
  mv -- "${tmp}/libs" "${libs}"
  rm -rf -- "${tmp}"
  printf '%s\n' "${stamp}" >"${marker}"
  exec {lock_fd}>&-
  log "fetched $(find "${libs}" -name '*.jar' | wc -l) jars"
  printf '%s\n' "${libs}"
}

# run_tool LIBS MAIN_CLASS ARGS... : a short-lived Kafka CLI tool, killed after
# $TOOL_TIMEOUT seconds (default 120).
run_tool() {
  local libs="$1" java
  shift
  java="$(java_bin)"
  timeout "${TOOL_TIMEOUT:-120}" "${java}" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j2.configurationFile="${TOOLS_LOG4J}" \
    -cp "${libs}/*" "$@"
}

# free_ports N -> N distinct free TCP ports on 127.0.0.1, one per line.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# new_cluster_id -> a random Kafka Uuid string, as 'kafka.tools.StorageTool random-uuid'
# prints it (16 random bytes, URL-safe base64 without padding, not starting with '-'),
# without paying for a JVM start.
new_cluster_id() {
  python3 - <<'PY'
import base64, os
while True:
    raw = os.urandom(16)
    if raw == bytes(16) or raw == bytes(15) + b"\x01":
        continue  # Kafka's reserved ZERO_UUID and METADATA_TOPIC_ID
    s = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break
PY
}

# port_free PORT: true when 127.0.0.1:PORT can be listened on (as Kafka does, SO_REUSEADDR).
port_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(1)
except OSError:
    sys.exit(1)
PY
}

# broker_pid DIR -> the pid in DIR/kafka.pid when it is a live kafka.Kafka process of DIR.
broker_pid() {
  local dir="$1" pid cmdline
  [[ -f "${dir}/kafka.pid" ]] || return 1
  pid="$(tr -dc '0-9' <"${dir}/kafka.pid")"
  [[ -n ${pid} ]] || return 1
  [[ -r /proc/${pid}/cmdline ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" || return 1
  [[ ${cmdline} == *kafka.Kafka* && ${cmdline} == *"${dir}/server.properties"* ]] || return 1
  printf '%s\n' "${pid}"
}

# bind_failed DIR: the broker's output says a port was taken. (kafka.out, written anew at
# each launch, gets every WARN/ERROR; server.log is appended to and may hold old clashes.)
bind_failed() {
  grep -qs -e 'failed to bind' -e 'Address already in use' "$1/kafka.out"
}

# clashed_port DIR -> the port named by the last "failed to bind" in kafka.out, if any.
clashed_port() {
  sed -n 's/.*failed to bind to 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1/kafka.out" 2>/dev/null | tail -n 1
}

tail_logs() { # tail_logs DIR
  local f
  for f in "$1/kafka.out" "$1/logs/server.log"; do
    if [[ -s ${f} ]]; then
      printf '%s: ---- last lines of %s ----\n' "${PROG}" "${f}" >&2
      tail -n 40 -- "${f}" >&2
    fi
  done
}

# ---------------------------------------------------------------------------- fetch

usage_fetch() {
  cat <<EOF
Usage: ${PROG} fetch

Downloads the Apache Kafka $(kafka_version) jars (broker, CLI tools, log4j) listed in
${POM} from Maven Central with 'mvn dependency:copy-dependencies', unless the cache
already holds a complete copy, and prints the libs directory.

Cache: \${GATEHOUSE_CACHE_DIR:-\$HOME/.cache/gatehouse}/kafka-<version>/libs
       (complete when its .fetched marker matches the version and pom.xml; a half
       download has no marker and is redone).
Env:   GATEHOUSE_KAFKA_VERSION overrides the version in pom.xml.
EOF
}

cmd_fetch() {
  while (($#)); do
    case "$1" in
      -h | --help) usage_fetch; return 0 ;;
      *) usage_error "unknown argument '$1'" fetch ;;
    esac
  done
  ensure_libs
}

# ---------------------------------------------------------------------------- start

usage_start() {
  cat <<EOF
Usage: ${PROG} start --data DIR [--port P] [--controller-port CP] [--timeout SECONDS]
                     [--sasl] [--set KEY=VALUE ...]

Starts a single-node Kafka broker (KRaft: broker and controller in one JVM) listening on
127.0.0.1 only, with its state in DIR, and waits until it really serves (a probe topic is
created and a message produced and consumed with kcat). Prints 127.0.0.1:P as the last line
of stdout; progress goes to stderr.

  --data DIR             state directory (created): server.properties, data/ (the log
                         dirs), logs/server.log, kafka.out, kafka.pid, bootstrap
  --port P               client (PLAINTEXT) port; default: the one DIR used last time if it
                         is free, else a free port
  --controller-port CP   KRaft controller port; default chosen the same way
  --timeout SECONDS      how long to wait for the broker to serve (default 90, or
                         \$GATEHOUSE_KAFKA_START_TIMEOUT)
  --sasl                 authenticated and authorised: clients connect with SASL/PLAIN (see
                         docs/kafka.md for why not SCRAM) and ACLs are enforced (nothing is
                         allowed without one). The principals admin (a super
                         user), onboarding, customers, sales-bridge and notifier get random
                         passwords in DIR/credentials (0600); DIR/client.properties holds
                         admin's librdkafka properties, DIR/admin.properties its Java client's.
                         Grant the services theirs with '${PROG} acls'. A DIR started with
                         --sasl stays in this mode.
  --set KEY=VALUE        an extra broker property, appended to server.properties so it
                         overrides the default (repeatable); e.g. --set log.retention.ms=60000

DIR's storage is formatted once (skipped when DIR/data/meta.properties exists), so a
restart on the same DIR keeps topics and data. When DIR/kafka.pid names a live broker,
nothing is started and its bootstrap address is printed.
On timeout or an early exit: prints the end of the broker log, stops it, exits 1.
Env: GATEHOUSE_KAFKA_HEAP (default "-Xms256m -Xmx768m"), GATEHOUSE_CACHE_DIR, JAVA_HOME.
EOF
}

# make_credentials DIR: DIR/credentials (USER=PASSWORD per line) once, and the client property
# files of the admin principal. All 0600: they are secrets.
make_credentials() {
  local dir="$1" user
  if [[ ! -f "${dir}/credentials" ]]; then
    (
      umask 077
      for user in "${SASL_USERS[@]}"; do
        printf '%s=%s\n' "${user}" "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
      done >"${dir}/credentials.tmp"
      mv -f -- "${dir}/credentials.tmp" "${dir}/credentials"
    )
  fi
  (
    umask 077
    client_properties "${dir}/credentials" admin librdkafka >"${dir}/client.properties"
    client_properties "${dir}/credentials" admin java >"${dir}/admin.properties"
  )
}

# client_properties CREDENTIALS USER librdkafka|java -> USER's client properties (SASL_PLAINTEXT,
# PLAIN): librdkafka's (kcat -F, the services' kafka.properties) or a Java client's
# (--command-config of the Kafka CLI tools).
client_properties() {
  local password
  password="$(sed -n "s/^$2=//p" "$1" | tail -n 1)"
  [[ -n ${password} ]] || die "no password for principal '$2' in $1"
  check_password "$2" "${password}"
  case "$3" in
    librdkafka)
      printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanisms=PLAIN\nsasl.username=%s\nsasl.password=%s\n' \
        "$2" "${password}"
      ;;
    java)
      printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="%s";\n' \
        "$2" "${password}"
      ;;
    *) die "internal: client_properties wants librdkafka or java, got '$3'" ;;
  esac
}

write_server_properties() { # DIR PORT CPORT
  local dir="$1" port="$2" cport="$3"
  (
    umask 077 # with --sasl it holds the principals' passwords
    {
      if ((SASL)); then
        sasl_listener_properties "${dir}" "${port}" "${cport}"
      else
        cat <<EOF
# Generated by deploy/kafka/kafka.sh start: rewritten on every start. See docs/kafka.md.
# Single node, KRaft: this process is the broker and the only controller (quorum of one).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
EOF
      fi
      cat <<EOF

log.dirs=${dir}/data

# One broker: every replication factor and min ISR is 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Topics are created explicitly (kafka.sh create-topic, retention.ms=-1 by default);
# a typo in a topic name must fail, not create a new topic.
auto.create.topics.enable=false
num.partitions=3

# Tests: a consumer group's first member is assigned at once, not after 3 s.
group.initial.rebalance.delay.ms=0
EOF
      if ((${#EXTRA_PROPS[@]})); then
        printf '\n# From start --set (a later line wins over an earlier one with the same key):\n'
        printf '%s\n' "${EXTRA_PROPS[@]}"
      fi
    } >"${dir}/server.properties.tmp"
  )
  mv -f -- "${dir}/server.properties.tmp" "${dir}/server.properties"
}

# check_password USER PASSWORD: a password that server.properties (JAAS, quoted) and the
# services' kafka.properties (comma-separated key=value) can hold as it is.
check_password() {
  [[ $2 =~ ^[A-Za-z0-9._~+/=@-]{16,}$ ]] ||
    die "the password of principal '$1' must be at least 16 characters of A-Z a-z 0-9 . _ ~ + / = @ - (no quotes, commas or blanks)"
}

# sasl_broker_properties CREDENTIALS NODE_ID QUORUM_VOTERS LISTEN_HOST PORT CPORT ADVERTISED_HOST
# The one definition of an authenticated broker, used by start --sasl (127.0.0.1) and by the
# container image (deploy/kafka/kafka-entrypoint, through 'kafka.sh sasl-properties'): SASL on
# the client and the controller listener, the standard authorizer, nothing without an ACL.
# CREDENTIALS holds USER=PASSWORD lines for every principal of SASL_USERS.
sasl_broker_properties() {
  local credentials="$1" node_id="$2" voters="$3" host="$4" port="$5" cport="$6" advertised="$7"
  local admin_password users="" user password
  for user in "${SASL_USERS[@]}"; do
    password="$(sed -n "s/^${user}=//p" "${credentials}" | tail -n 1)"
    [[ -n ${password} ]] || die "no password for principal '${user}' in ${credentials}"
    check_password "${user}" "${password}"
    users+=" user_${user}=\"${password}\""
    [[ ${user} != admin ]] || admin_password="${password}"
  done
  cat <<EOF
# Generated by deploy/kafka/kafka.sh (start --sasl, or sasl-properties for the container image).
# KRaft, authenticated (SASL) and authorised (ACLs). Holds the principals' passwords: keep it 0600.
process.roles=broker,controller
node.id=${node_id}
controller.quorum.voters=${voters}
controller.listener.names=CONTROLLER
listeners=SASL_PLAINTEXT://${host}:${port},CONTROLLER://${host}:${cport}
advertised.listeners=SASL_PLAINTEXT://${advertised}:${port}
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT

# Clients and the broker itself: SASL/PLAIN, one principal per service (the user_NAME entries).
# Not SCRAM: Debian's librdkafka (2.0.2) computes SCRAM proofs that Kafka 4 rejects (fixed in
# librdkafka 2.6.1). SASL_PLAINTEXT sends the password in the clear: across any network you do
# not trust (anything but one host or a private container network), use SASL_SSL.
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${admin_password}"${users};
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${admin_password}" user_admin="${admin_password}";

# Nothing is allowed without an ACL; admin (the broker and the operators' tools) is a super user.
# Credentials are fixed at start (this file): a new principal or password needs a restart.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
EOF
}

# The listeners of start --sasl: on 127.0.0.1, node 1, a quorum of one.
sasl_listener_properties() { # DIR PORT CPORT
  local dir="$1" port="$2" cport="$3"
  sasl_broker_properties "${dir}/credentials" 1 "1@127.0.0.1:${cport}" 127.0.0.1 "${port}" "${cport}" 127.0.0.1
}

# previous_ports DIR -> "PORT CPORT" from DIR/server.properties of an earlier start, if any.
previous_ports() {
  local props="$1/server.properties" port cport
  [[ -f ${props} ]] || return 0
  port="$(sed -n 's|^advertised.listeners=[A-Z_]*://127.0.0.1:\([0-9]*\)$|\1|p' "${props}")"
  cport="$(sed -n 's|^controller.quorum.voters=1@127.0.0.1:\([0-9]*\)$|\1|p' "${props}")"
  printf '%s %s\n' "${port}" "${cport}"
}

# probe_ready BOOTSTRAP LIBS TOKEN -> 0 once TOKEN, produced now, is consumed back.
# One step of the readiness check; the caller loops. Each external call is time-bounded.
probe_ready() {
  local bootstrap="$1" libs="$2" token="$3"
  local -a kcat_auth=() tool_auth=()
  if ((SASL)); then
    kcat_auth=(-F "${PROBE_DIR}/client.properties")
    tool_auth=(--command-config "${PROBE_DIR}/admin.properties")
  fi
  # Cheap first: is the port open at all? (A refused connect fails at once.)
  # shellcheck disable=SC2016 # $1 is for the inner bash.
  timeout 2 bash -c ': </dev/tcp/127.0.0.1/"$1"' _ "${bootstrap##*:}" 2>/dev/null || return 1
  local metadata
  metadata="$(timeout 5 kcat "${kcat_auth[@]}" -b "${bootstrap}" -L -t "${PROBE_TOPIC}" -m 3 2>/dev/null)" || return 1
  # The probe topic is created once per DIR (a restart finds it: no JVM start needed).
  # (kcat -L prints 'topic "T" with 0 partitions: ... Unknown topic' for a missing one.)
  local exists_re="topic \"${PROBE_TOPIC}\" with [1-9]"
  if [[ ! ${metadata} =~ ${exists_re} ]] && ((!PROBE_TOPIC_CREATED)); then
    if TOOL_TIMEOUT=30 run_tool "${libs}" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "${bootstrap}" "${tool_auth[@]}" --create --if-not-exists \
      --topic "${PROBE_TOPIC}" --partitions 1 --replication-factor 1 \
      --config retention.ms=3600000 >/dev/null 2>&1; then
      PROBE_TOPIC_CREATED=1
    else
      return 1
    fi
  fi
  # Idempotent produce (needs a producer id from the controller) ...
  printf '%s\n' "${token}" | timeout 10 kcat "${kcat_auth[@]}" -b "${bootstrap}" -P -t "${PROBE_TOPIC}" -p 0 \
    -X enable.idempotence=true -X message.timeout.ms=5000 >/dev/null 2>&1 || return 1
  # ... and a consumer-group read (needs __consumer_offsets and the group coordinator).
  # Read all of it before matching: kcat must reach the end and leave the group cleanly.
  local consumed
  consumed="$(timeout 15 kcat "${kcat_auth[@]}" -b "${bootstrap}" -G "${PROBE_TOPIC}" \
    -X auto.offset.reset=earliest -e -q -f '%s\n' "${PROBE_TOPIC}" 2>/dev/null)" || return 1
  grep -qxF -- "${token}" <<<"${consumed}"
}

cmd_start() {
  local data="" port="" cport="" timeout_s="${GATEHOUSE_KAFKA_START_TIMEOUT:-90}"
  EXTRA_PROPS=()
  while (($#)); do
    case "$1" in
      -h | --help) usage_start; return 0 ;;
      --sasl)
        SASL=1
        shift
        ;;
      --data | --port | --controller-port | --timeout | --set)
        (($# >= 2)) || usage_error "$1 needs a value" start
        case "$1" in
          --data) data="$2" ;;
          --port) port="$2" ;;
          --controller-port) cport="$2" ;;
          --timeout) timeout_s="$2" ;;
          --set)
            [[ $2 =~ ^[A-Za-z0-9._-]+=[^$'\n']*$ ]] || usage_error "--set wants KEY=VALUE, got '$2'" start
            EXTRA_PROPS+=("$2")
            ;;
          *) die "internal: unhandled option $1" ;;
        esac
        shift 2
        ;;
      --data=* | --port=* | --controller-port=* | --timeout=* | --set=*)
        local opt="${1%%=*}" val="${1#*=}"
        set -- "${opt}" "${val}" "${@:2}"
        ;;
      *) usage_error "unknown argument '$1'" start ;;
    esac
  done
  [[ -n ${data} ]] || usage_error "--data DIR is required" start
  [[ -z ${port} ]] || check_port --port "${port}" start
  [[ -z ${cport} ]] || check_port --controller-port "${cport}" start
  if [[ -n ${port} && ${port} == "${cport}" ]]; then
    usage_error "--port and --controller-port must differ" start
  fi
  if ! is_uint "${timeout_s}" || ((10#${timeout_s} == 0)); then
    usage_error "--timeout must be a positive number of seconds, got '${timeout_s}'" start
  fi
  timeout_s=$((10#${timeout_s}))

  data="$(abs_dir "${data}")"
  local pid
  if pid="$(broker_pid "${data}")"; then
    log "broker already running in ${data} (pid ${pid})"
    cat -- "${data}/bootstrap"
    return 0
  fi
  # One start at a time per DIR. The broker must not inherit this lock (see start_once).
  exec {START_LOCK_FD}>"${data}/.start.lock"
  flock "${START_LOCK_FD}"
  if pid="$(broker_pid "${data}")"; then
    log "broker already running in ${data} (pid ${pid})"
    cat -- "${data}/bootstrap"
    return 0
  fi
  rm -f -- "${data}/kafka.pid"

  need_cmd python3 "apt-get install python3"
  need_cmd kcat "apt-get install kcat"
  local java libs
  java="$(java_bin)"
  check_java "${java}"
  libs="$(ensure_libs)"

  local attempt
  for attempt in 1 2 3; do
    local p="${port}" cp="${cport}" prev_p="" prev_cp=""
    if [[ -z ${p} || -z ${cp} ]]; then
      read -r prev_p prev_cp <<<"$(previous_ports "${data}")" || true
      if [[ -z ${p} && -n ${prev_p} && ${prev_p} != "${cp}" ]] && ((attempt == 1)) && port_free "${prev_p}"; then
        p="${prev_p}"
      fi
      if [[ -z ${cp} && -n ${prev_cp} && ${prev_cp} != "${p}" ]] && ((attempt == 1)) && port_free "${prev_cp}"; then
        cp="${prev_cp}"
      fi
      local picked
      mapfile -t picked < <(free_ports 2)
      ((${#picked[@]} == 2)) || die "could not pick free ports on 127.0.0.1"
      if [[ -z ${p} ]]; then
        if [[ ${picked[0]} != "${cp}" ]]; then p="${picked[0]}"; else p="${picked[1]}"; fi
      fi
      if [[ -z ${cp} ]]; then
        if [[ ${picked[1]} != "${p}" ]]; then cp="${picked[1]}"; else cp="${picked[0]}"; fi
      fi
    fi

    # A subshell with errexit on: calling start_once from a condition would turn it off.
    local rc=0
    set +e
    (
      set -e
      start_once "${data}" "${p}" "${cp}" "${java}" "${libs}" "${timeout_s}"
    )
    rc=$?
    set -e
    ((rc != 0)) || return 0
    # 3: the broker could not bind a port. When it is one we picked (someone took it
    # between our check and the broker's bind), pick others; an explicit one stays taken.
    if ((rc == 3 && attempt < 3)); then
      local clash
      clash="$(clashed_port "${data}")"
      if [[ -n ${clash} && ${clash} != "${port}" && ${clash} != "${cport}" ]]; then
        log "port 127.0.0.1:${clash} was taken; retrying with other ports"
        continue
      fi
    fi
    exit 1
  done
}

# start_once DIR PORT CPORT JAVA LIBS TIMEOUT -> 0 serving, 3 bind failure, 1 other failure
start_once() {
  local data="$1" port="$2" cport="$3" java="$4" libs="$5" timeout_s="$6"
  local bootstrap="127.0.0.1:${port}"
  mkdir -p -- "${data}/data" "${data}/logs"
  # A DIR formatted with SASL users stays a SASL broker (its clients hold those credentials).
  [[ ! -f "${data}/credentials" ]] || SASL=1
  if ((SASL)); then
    make_credentials "${data}"
  fi
  PROBE_DIR="${data}"
  write_server_properties "${data}" "${port}" "${cport}"

  if [[ ! -f "${data}/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(new_cluster_id)"
    [[ ${cluster_id} =~ ^[A-Za-z0-9_][A-Za-z0-9_-]{21}$ ]] || die "bad cluster id '${cluster_id}'"
    log "formatting ${data}/data (cluster id ${cluster_id})"
    # No --standalone: it conflicts with controller.quorum.voters (a static quorum).
    run_tool "${libs}" kafka.tools.StorageTool format -t "${cluster_id}" \
      -c "${data}/server.properties" >&2 || die "StorageTool format failed"
    printf '%s\n' "${cluster_id}" >"${data}/cluster.id"
  fi

  # GATEHOUSE_KAFKA_HEAP holds several JVM options, split on blanks.
  local -a heap
  read -r -a heap <<<"${GATEHOUSE_KAFKA_HEAP:--Xms256m -Xmx768m}"
  log "starting Kafka on ${bootstrap} (controller 127.0.0.1:${cport}), state in ${data}"
  local pidfile="${data}/kafka.pid"
  rm -f -- "${pidfile}.new"
  # setsid: own session, so the broker outlives this script and its terminal. The inner bash
  # writes its own pid and then execs java, so the pid file names the JVM itself.
  # shellcheck disable=SC2016 # $$ and $@ are for the inner bash.
  setsid bash -c 'printf "%s\n" "$$" >"$1"; shift; exec "$@"' _ "${pidfile}.new" \
    "${java}" "${heap[@]}" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="${BROKER_LOG4J}" -Dkafka.logs.dir="${data}/logs" \
    -cp "${libs}/*" kafka.Kafka "${data}/server.properties" \
    >"${data}/kafka.out" 2>&1 </dev/null {START_LOCK_FD}>&- &
  local i pid=""
  for ((i = 0; i < 100; i++)); do
    if [[ -s "${pidfile}.new" ]]; then
      pid="$(tr -dc '0-9' <"${pidfile}.new")"
      [[ -n ${pid} ]] && break
    fi
    sleep 0.05
  done
  [[ -n ${pid} ]] || die "the broker process did not start (see ${data}/kafka.out)"
  mv -f -- "${pidfile}.new" "${pidfile}"
  printf '%s\n' "${bootstrap}" >"${data}/bootstrap"

  # Wait until it serves: a probe message produced and consumed back, polled every 0.5 s.
  local start_s start_ms deadline token
  start_s="$(date +%s)"
  start_ms="$(now_ms)"
  deadline=$((start_s + timeout_s))
  token="probe-$$-${start_s}-${RANDOM}"
  PROBE_TOPIC_CREATED=0
  while :; do
    if ! alive "${pid}"; then
      rm -f -- "${pidfile}"
      log "the broker exited during startup"
      tail_logs "${data}"
      if bind_failed "${data}"; then
        return 3
      fi
      return 1
    fi
    # A port clash is fatal, but the JVM takes many seconds to shut down after it.
    if bind_failed "${data}"; then
      log "the broker could not listen on its ports"
      tail_logs "${data}"
      stop_pid "${data}" "${pid}" 10 || true
      return 3
    fi
    if probe_ready "${bootstrap}" "${libs}" "${token}"; then
      break
    fi
    if (($(date +%s) >= deadline)); then
      log "the broker did not serve within ${timeout_s} s"
      tail_logs "${data}"
      stop_pid "${data}" "${pid}" || true
      return 1
    fi
    sleep 0.5
  done
  log "Kafka is serving on ${bootstrap} (pid ${pid}, ready $(elapsed "${start_ms}") s after launch)"
  printf '%s\n' "${bootstrap}"
}

# ---------------------------------------------------------------------------- stop

usage_stop() {
  cat <<EOF
Usage: ${PROG} stop --data DIR [--timeout SECONDS]

Stops the broker whose pid is in DIR/kafka.pid: SIGTERM (a clean shutdown), then SIGKILL
if it has not exited after SECONDS (default 30). Only that pid is ever signalled, and only
when its command line is kafka.Kafka with DIR/server.properties. Removes the pid file.
Exits 0 when nothing was running.
EOF
}

# alive PID: the process exists (also when it belongs to another user, unlike kill -0).
alive() { [[ -e /proc/$1 ]]; }

stop_pid() { # stop_pid DIR PID [TIMEOUT]
  local data="$1" pid="$2" timeout_s="${3:-30}" i
  log "stopping the broker (pid ${pid})"
  if ! kill -TERM "${pid}" 2>/dev/null && alive "${pid}"; then
    die "not allowed to signal pid ${pid} (started by another user?)"
  fi
  for ((i = 0; i < timeout_s * 10; i++)); do
    alive "${pid}" || break
    sleep 0.1
  done
  if alive "${pid}"; then
    log "the broker did not exit within ${timeout_s} s; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "${pid}" || break
      sleep 0.1
    done
  fi
  alive "${pid}" && die "pid ${pid} is still alive after SIGKILL"
  rm -f -- "${data}/kafka.pid"
  log "stopped"
}

cmd_stop() {
  local data="" timeout_s=30
  while (($#)); do
    case "$1" in
      -h | --help) usage_stop; return 0 ;;
      --data | --timeout)
        (($# >= 2)) || usage_error "$1 needs a value" stop
        if [[ $1 == --data ]]; then data="$2"; else timeout_s="$2"; fi
        shift 2
        ;;
      --data=* | --timeout=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
      *) usage_error "unknown argument '$1'" stop ;;
    esac
  done
  [[ -n ${data} ]] || usage_error "--data DIR is required" stop
  is_uint "${timeout_s}" || usage_error "--timeout must be a number of seconds, got '${timeout_s}'" stop
  if [[ ! -d ${data} ]]; then
    log "no such directory ${data}: nothing to stop"
    return 0
  fi
  data="$(cd -- "${data}" && pwd -P)"
  local pid
  if ! pid="$(broker_pid "${data}")"; then
    if [[ -f "${data}/kafka.pid" ]]; then
      log "stale ${data}/kafka.pid (no kafka.Kafka process of this directory with that pid); removed"
      rm -f -- "${data}/kafka.pid"
    else
      log "no broker running in ${data}"
    fi
    return 0
  fi
  stop_pid "${data}" "${pid}" "${timeout_s}"
}

# ---------------------------------------------------------------------------- status

usage_status() {
  cat <<EOF
Usage: ${PROG} status --data DIR

Prints 'running <bootstrap> pid <pid>' and exits 0, or 'stopped [<last bootstrap>]' and
exits 3 (the LSB convention for "not running").
EOF
}

cmd_status() {
  local data=""
  while (($#)); do
    case "$1" in
      -h | --help) usage_status; return 0 ;;
      --data)
        (($# >= 2)) || usage_error "$1 needs a value" status
        data="$2"
        shift 2
        ;;
      --data=*) data="${1#*=}"; shift ;;
      *) usage_error "unknown argument '$1'" status ;;
    esac
  done
  [[ -n ${data} ]] || usage_error "--data DIR is required" status
  local bootstrap="" pid
  if [[ -d ${data} ]]; then
    data="$(cd -- "${data}" && pwd -P)"
    [[ -f "${data}/bootstrap" ]] && bootstrap="$(cat -- "${data}/bootstrap")"
    if pid="$(broker_pid "${data}")"; then
      printf 'running %s pid %s\n' "${bootstrap}" "${pid}"
      return 0
    fi
  fi
  if [[ -n ${bootstrap} ]]; then
    printf 'stopped %s\n' "${bootstrap}"
  else
    printf 'stopped\n'
  fi
  exit 3
}

# ---------------------------------------------------------------------------- create-topic

usage_create_topic() {
  cat <<EOF
Usage: ${PROG} create-topic (--bootstrap HOST:PORT | --data DIR) --topic T
                            [--partitions N] [--retention-ms MS] [--replication-factor R]
                            [--config KEY=VALUE ...]

Creates topic T unless it already exists (then nothing is changed, even when its
settings differ). Runs org.apache.kafka.tools.TopicCommand from the cached jars.

  --bootstrap HOST:PORT  the broker; or --data DIR to use DIR/bootstrap
  --topic T              topic name
  --partitions N         default 3
  --retention-ms MS      default -1: keep records forever (event-sourced topics)
  --replication-factor R default 1 (the single-node broker); 3 on a 3-broker cluster
  --config KEY=VALUE     any other topic config, repeatable (e.g. cleanup.policy=compact)
  --command-config FILE  an admin's Java client properties (SASL); with --data DIR of a broker
                         started with --sasl: DIR/admin.properties
EOF
}

cmd_create_topic() {
  local bootstrap="" data="" topic="" partitions=3 retention=-1 replication=1 command_config=""
  local -a configs=()
  while (($#)); do
    case "$1" in
      -h | --help) usage_create_topic; return 0 ;;
      --bootstrap | --data | --topic | --partitions | --retention-ms | --replication-factor | --config | --command-config)
        (($# >= 2)) || usage_error "$1 needs a value" create-topic
        case "$1" in
          --bootstrap) bootstrap="$2" ;;
          --command-config) command_config="$2" ;;
          --data) data="$2" ;;
          --topic) topic="$2" ;;
          --partitions) partitions="$2" ;;
          --retention-ms) retention="$2" ;;
          --replication-factor) replication="$2" ;;
          --config)
            [[ $2 =~ ^[A-Za-z0-9._-]+=.*$ ]] || usage_error "--config wants KEY=VALUE, got '$2'" create-topic
            [[ $2 != retention.ms=* ]] || usage_error "use --retention-ms instead of --config retention.ms=..." create-topic
            configs+=(--config "$2")
            ;;
          *) die "internal: unhandled option $1" ;;
        esac
        shift 2
        ;;
      --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
      *) usage_error "unknown argument '$1'" create-topic ;;
    esac
  done
  if [[ -z ${bootstrap} && -n ${data} ]]; then
    [[ -f "${data}/bootstrap" ]] || die "${data}/bootstrap not found: is a broker started there?"
    bootstrap="$(cat -- "${data}/bootstrap")"
  fi
  # A broker started with --sasl: its admin's credentials.
  if [[ -z ${command_config} && -n ${data} && -f "${data}/admin.properties" ]]; then
    command_config="${data}/admin.properties"
  fi
  local -a auth=()
  [[ -z ${command_config} ]] || auth=(--command-config "${command_config}")
  [[ -n ${bootstrap} ]] || usage_error "--bootstrap HOST:PORT (or --data DIR) is required" create-topic
  [[ ${bootstrap} =~ ^[^[:space:]]+:[0-9]+(,[^[:space:]]+:[0-9]+)*$ ]] ||
    usage_error "--bootstrap wants HOST:PORT[,HOST:PORT...], got '${bootstrap}'" create-topic
  [[ -n ${topic} ]] || usage_error "--topic T is required" create-topic
  [[ ${topic} =~ ^[A-Za-z0-9._-]{1,249}$ && ${topic} != "." && ${topic} != ".." ]] ||
    usage_error "invalid topic name '${topic}' (letters, digits, '.', '_', '-'; at most 249)" create-topic
  if ! is_uint "${partitions}" || ((10#${partitions} == 0)); then
    usage_error "--partitions must be a positive integer, got '${partitions}'" create-topic
  fi
  if ! is_uint "${replication}" || ((10#${replication} == 0)); then
    usage_error "--replication-factor must be a positive integer, got '${replication}'" create-topic
  fi
  [[ ${retention} =~ ^(-1|[0-9]+)$ ]] ||
    usage_error "--retention-ms must be -1 (forever) or a number of milliseconds, got '${retention}'" create-topic

  # Fail in seconds, not after the admin client's 60 s, when nothing listens there.
  local first="${bootstrap%%,*}"
  # shellcheck disable=SC2016 # $1 and $2 are for the inner bash.
  timeout 5 bash -c ': </dev/tcp/"$1"/"$2"' _ "${first%:*}" "${first##*:}" 2>/dev/null ||
    die "nothing answers on ${first}: is the broker running?"

  local java libs
  java="$(java_bin)"
  check_java "${java}"
  libs="$(ensure_libs)"
  run_tool "${libs}" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "${bootstrap}" "${auth[@]}" --create --if-not-exists \
    --topic "${topic}" --partitions "$((10#${partitions}))" --replication-factor "$((10#${replication}))" \
    --config "retention.ms=${retention}" "${configs[@]}" >&2 ||
    die "could not create topic '${topic}' on ${bootstrap}"
  log "topic '${topic}' exists on ${bootstrap}"
}

# ---------------------------------------------------------------------------- acls

usage_acls() {
  cat <<EOF
Usage: ${PROG} acls (--data DIR | --bootstrap HOST:PORT --command-config FILE)
                    [--topic-prefix P] [--group-prefix G] [--service NAME ...]

Grants each Gatehouse service, as the principal User:NAME, exactly what it needs on a broker
with ACLs (start --sasl), and nothing else:
  its own event topic and dead-letter topic   Write, Read, Describe
  its input topics                            Read, Describe
  its consumer groups (G + NAME + ".")        Read, Describe (prefixed)
  the groups of its log and dead-letter tools Read, Describe (prefixed, random suffixes)
So a service can never write another's topic, nor read what it does not consume. Idempotent
producing needs no cluster ACL (Kafka 3+: Write on a topic is enough).

  --data DIR             the broker started with --sasl in DIR: its bootstrap and
                         DIR/admin.properties (the super user)
  --bootstrap, --command-config   any broker, with an admin's Java client properties
  --topic-prefix P       the deployment's kafka.topic_prefix (default: none)
  --group-prefix G       the deployment's kafka.consumer_group_prefix (default: none)
  --service NAME         only this service (repeatable; default: all four)
EOF
}

# The platform's topology (libs/platform/include/gatehouse/platform/topics.h): what each writes.
own_topic_of() {
  case "$1" in
    sales-bridge) printf 'gatehouse.sales.events.v1\n' ;;
    *) printf 'gatehouse.%s.events.v1\n' "$1" ;;
  esac
}
inputs_of() {
  case "$1" in
    onboarding) printf '%s\n' sales-bridge ;;
    customers) printf '%s\n' onboarding sales-bridge ;;
    sales-bridge) printf '%s\n' onboarding customers ;;
    notifier) printf '%s\n' onboarding customers sales-bridge ;;
  esac
}

cmd_acls() {
  local bootstrap="" data="" command_config="" topic_prefix="" group_prefix=""
  local -a services=()
  while (($#)); do
    case "$1" in
      -h | --help) usage_acls; return 0 ;;
      --bootstrap | --data | --command-config | --topic-prefix | --group-prefix | --service)
        (($# >= 2)) || usage_error "$1 needs a value" acls
        case "$1" in
          --bootstrap) bootstrap="$2" ;;
          --data) data="$2" ;;
          --command-config) command_config="$2" ;;
          --topic-prefix) topic_prefix="$2" ;;
          --group-prefix) group_prefix="$2" ;;
          --service)
            [[ $2 =~ ^(onboarding|customers|sales-bridge|notifier)$ ]] ||
              usage_error "--service wants onboarding, customers, sales-bridge or notifier, got '$2'" acls
            services+=("$2")
            ;;
          *) die "internal: unhandled option $1" ;;
        esac
        shift 2
        ;;
      --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
      *) usage_error "unknown argument '$1'" acls ;;
    esac
  done
  if [[ -n ${data} ]]; then
    [[ -f "${data}/bootstrap" ]] || die "${data}/bootstrap not found: is a broker started there?"
    [[ -n ${bootstrap} ]] || bootstrap="$(cat -- "${data}/bootstrap")"
    [[ -n ${command_config} ]] || command_config="${data}/admin.properties"
  fi
  [[ -n ${bootstrap} ]] || usage_error "--data DIR or --bootstrap HOST:PORT is required" acls
  [[ -f ${command_config} ]] || usage_error "--command-config FILE (an admin's client properties) is required" acls
  ((${#services[@]})) || services=(onboarding customers sales-bridge notifier)

  local java libs
  java="$(java_bin)"
  check_java "${java}"
  libs="$(ensure_libs)"
  acl() { # acl PRINCIPAL ARGS... : one AclCommand --add
    TOOL_TIMEOUT=60 run_tool "${libs}" org.apache.kafka.tools.AclCommand --bootstrap-server "${bootstrap}" \
      --command-config "${command_config}" --add --force "$@" >/dev/null ||
      die "could not grant ACLs ($*)"
  }
  local service input
  for service in "${services[@]}"; do
    local principal="User:${service}"
    acl --allow-principal "${principal}" --operation Write --operation Read --operation Describe \
      --topic "${topic_prefix}$(own_topic_of "${service}")" \
      --topic "${topic_prefix}gatehouse.${service}.dead-letters.v1"
    local -a input_topics=()
    while read -r input; do
      input_topics+=(--topic "${topic_prefix}$(own_topic_of "${input}")")
    done < <(inputs_of "${service}")
    acl --allow-principal "${principal}" --operation Read --operation Describe "${input_topics[@]}"
    acl --allow-principal "${principal}" --operation Read --operation Describe --resource-pattern-type prefixed \
      --group "${group_prefix}${service}." --group "gatehouse-log-tool-" --group "gatehouse-dead-letter-reader-"
    log "granted ${principal} its topics and groups (topic prefix '${topic_prefix}')"
  done
}

# ---------------------------------------------------------------------------- principals, sasl-properties, client-properties
# For the container image (deploy/kafka/kafka-entrypoint) and deploy/compose/make-env.sh: the
# same principals, broker security and client properties as start --sasl, from one place.

usage_principals() {
  cat <<EOF
Usage: ${PROG} principals

Prints the SASL principals, one a line: admin (the super user) and one per service
(${SASL_USERS[*]}).
EOF
}

cmd_principals() {
  while (($#)); do
    case "$1" in
      -h | --help) usage_principals; return 0 ;;
      *) usage_error "unknown argument '$1'" principals ;;
    esac
  done
  printf '%s\n' "${SASL_USERS[@]}"
}

usage_sasl_properties() {
  cat <<EOF
Usage: ${PROG} sasl-properties --credentials FILE [--node-id N] [--quorum-voters V]
                               [--listen-host H] [--port P] [--controller-port CP]
                               [--advertised-host A]

Prints the listener and security part of an authenticated broker's server.properties, exactly
as start --sasl writes it: SASL_PLAINTEXT + PLAIN on the client and controller listeners, the
principals' passwords in the JAAS config, the standard authorizer, super user admin and
allow.everyone.if.no.acl.found=false. The output holds every password: write it 0600.

  --credentials FILE     USER=PASSWORD lines, one per principal ('${PROG} principals'); a
                         password is at least 16 characters of A-Z a-z 0-9 . _ ~ + / = @ -
  --node-id N            node.id (default 1)
  --quorum-voters V      controller.quorum.voters (default 1@localhost:CP)
  --listen-host H        the address both listeners bind (default 0.0.0.0)
  --port P, --controller-port CP   default 9092 and 9093
  --advertised-host A    the name clients reach this broker by (default: hostname -f)
EOF
}

cmd_sasl_properties() {
  local credentials="" node_id=1 voters="" host=0.0.0.0 port=9092 cport=9093 advertised=""
  while (($#)); do
    case "$1" in
      -h | --help) usage_sasl_properties; return 0 ;;
      --credentials | --node-id | --quorum-voters | --listen-host | --port | --controller-port | --advertised-host)
        (($# >= 2)) || usage_error "$1 needs a value" sasl-properties
        case "$1" in
          --credentials) credentials="$2" ;;
          --node-id) node_id="$2" ;;
          --quorum-voters) voters="$2" ;;
          --listen-host) host="$2" ;;
          --port) port="$2" ;;
          --controller-port) cport="$2" ;;
          --advertised-host) advertised="$2" ;;
          *) die "internal: unhandled option $1" ;;
        esac
        shift 2
        ;;
      --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
      *) usage_error "unknown argument '$1'" sasl-properties ;;
    esac
  done
  [[ -n ${credentials} ]] || usage_error "--credentials FILE is required" sasl-properties
  [[ -r ${credentials} ]] || die "cannot read ${credentials}"
  is_uint "${node_id}" || usage_error "--node-id must be a number, got '${node_id}'" sasl-properties
  check_port --port "${port}" sasl-properties
  check_port --controller-port "${cport}" sasl-properties
  [[ -n ${voters} ]] || voters="1@localhost:${cport}"
  [[ -n ${advertised} ]] || advertised="$(hostname -f 2>/dev/null || hostname)"
  sasl_broker_properties "${credentials}" "${node_id}" "${voters}" "${host}" "${port}" "${cport}" "${advertised}"
}

usage_client_properties() {
  cat <<EOF
Usage: ${PROG} client-properties --credentials FILE --user NAME [--java]

Prints the client properties of principal NAME (SASL_PLAINTEXT, PLAIN) from FILE (USER=PASSWORD
lines): librdkafka's (kcat -F FILE; the services' kafka.properties, comma-separated), or with
--java a Java client's (--command-config of the Kafka CLI tools). They hold the password.
EOF
}

cmd_client_properties() {
  local credentials="" user="" flavour=librdkafka
  while (($#)); do
    case "$1" in
      -h | --help) usage_client_properties; return 0 ;;
      --java) flavour=java; shift ;;
      --credentials | --user)
        (($# >= 2)) || usage_error "$1 needs a value" client-properties
        if [[ $1 == --user ]]; then user="$2"; else credentials="$2"; fi
        shift 2
        ;;
      --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
      *) usage_error "unknown argument '$1'" client-properties ;;
    esac
  done
  [[ -n ${credentials} ]] || usage_error "--credentials FILE is required" client-properties
  [[ -r ${credentials} ]] || die "cannot read ${credentials}"
  [[ " ${SASL_USERS[*]} " == *" ${user} "* ]] ||
    usage_error "--user wants one of: ${SASL_USERS[*]}" client-properties
  client_properties "${credentials}" "${user}" "${flavour}"
}

# ---------------------------------------------------------------------------- main

usage() {
  cat <<EOF
Usage: ${PROG} COMMAND [OPTIONS]

A real single-node Apache Kafka $(kafka_version) broker (KRaft) on 127.0.0.1.

Commands:
  fetch          download the jars into the cache (once) and print the libs dir
  start          start a broker: --data DIR [--port P] [--controller-port CP]
  stop           stop it: --data DIR
  status         running or stopped: --data DIR
  create-topic   --bootstrap B --topic T [--partitions N] [--retention-ms MS] [--config K=V]
  acls           grant each service its topics and groups on a broker with ACLs (start --sasl)
  principals     the SASL principals: admin and one per service
  sasl-properties    the listener/SASL/ACL part of an authenticated broker's server.properties
                     (used by the container image: deploy/kafka/kafka-entrypoint)
  client-properties  a principal's client properties (librdkafka, or --java)

'${PROG} COMMAND --help' describes each command. See docs/kafka.md.
EOF
}

main() {
  (($#)) || {
    usage >&2
    exit 2
  }
  local cmd="$1"
  shift
  case "${cmd}" in
    fetch) cmd_fetch "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    create-topic) cmd_create_topic "$@" ;;
    acls) cmd_acls "$@" ;;
    principals) cmd_principals "$@" ;;
    sasl-properties) cmd_sasl_properties "$@" ;;
    client-properties) cmd_client_properties "$@" ;;
    -h | --help | help) usage ;;
    *)
      printf '%s: error: unknown command %s\n' "${PROG}" "'${cmd}'" >&2
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
