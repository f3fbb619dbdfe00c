#!/usr/bin/env bash
# OneSource Kafka ACLs — who may write and read which topic.
#
# Model
#   Brokers authorize every request (KRaft: authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer,
#   allow.everyone.if.no.acl.found=false, super.users=<brokers and the admin principal>), and every client
#   authenticates (SASL/SCRAM or mTLS), so a principal names one service or one department's integrator.
#   Nothing is allowed unless an ACL below allows it.
#
#   1. One datum, one source. Each service may WRITE only its own source topics (onesource.<domain>.<entity>.v1):
#        gateway          onesource.identity.department.v1, onesource.identity.client.v1
#        catalog          onesource.catalog.resource.v1
#        exchange         onesource.exchange.grant.v1, onesource.exchange.share-request.v1
#        population       onesource.population.person.v1
#        legal-entity     onesource.legal-entity.entity.v1
#        geo              onesource.geo.division.v1, onesource.geo.address.v1, onesource.geo.parcel.v1
#        macroeconomy     onesource.macroeconomy.observation.v1, onesource.macroeconomy.release.v1
#      (Create + Describe on the same literal topics too, so a service that provisions its topics at start-up
#      gets "already exists" rather than "not authorized". Since Kafka 3.0 the idempotent producer needs only
#      Write on the topic, no cluster IdempotentWrite.)
#   2. The exchange READs every source topic (its projector) and is the only writer of delivery topics:
#      Create/Write/Describe on the PREFIX onesource.delivery. (it creates onesource.delivery.<dept>.<resource>
#      per subscription and publishes only granted fields and in-scope rows there).
#      The gateway READs onesource.exchange.grant.v1 and onesource.catalog.resource.v1 (cache invalidation).
#      Services consume in groups whose ids start with onesource.<service>. (prefixed group ACL).
#   3. A department's integrator READs only the PREFIX onesource.delivery.<department>. — the trailing dot keeps
#      department "civ" out of "civil.*" — and consumes in groups whose ids start with the same prefix.
#      It never sees a source topic, so it can never read a field its grants do not cover.
#
# Usage
#   deploy/kafka/acls.sh services                            ACLs of the seven service principals
#   deploy/kafka/acls.sh integrator <department> <principal> read access for one department's integrator
#   deploy/kafka/acls.sh list                                show all ACLs
#   ACL_ACTION=remove deploy/kafka/acls.sh integrator civil-affairs User:civil-affairs-integrator   (revoke)
#   DRY_RUN=1 deploy/kafka/acls.sh services                  print the kafka-acls.sh commands only
#
# Environment
#   KAFKA_BOOTSTRAP        brokers (default kafka-1:9092,kafka-2:9092,kafka-3:9092)
#   KAFKA_COMMAND_CONFIG   admin client properties (security.protocol, sasl.* or ssl.*) — needed on a secured cluster
#   KAFKA_BIN              Kafka CLI directory (default /opt/kafka/bin, else kafka-acls.sh on PATH)
#   PRINCIPAL_GATEWAY PRINCIPAL_CATALOG PRINCIPAL_EXCHANGE PRINCIPAL_POPULATION PRINCIPAL_LEGAL_ENTITY
#   PRINCIPAL_GEO PRINCIPAL_MACROECONOMY
#                          principal of each service (default User:onesource-<service>; for mTLS e.g.
#                          "User:CN=onesource-gateway,OU=OneSource,O=Example")
set -euo pipefail

BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka-1:9092,kafka-2:9092,kafka-3:9092}"
ACTION="${ACL_ACTION:-add}"
DRY_RUN="${DRY_RUN:-0}"

if [[ -n "${KAFKA_BIN:-}" ]]; then
  ACLS_CMD="${KAFKA_BIN%/}/kafka-acls.sh"
elif [[ -x /opt/kafka/bin/kafka-acls.sh ]]; then
  ACLS_CMD=/opt/kafka/bin/kafka-acls.sh
else
  ACLS_CMD=kafka-acls.sh
fi

CLIENT_ARGS=(--bootstrap-server "$BOOTSTRAP")
if [[ -n "${KAFKA_COMMAND_CONFIG:-}" ]]; then
  CLIENT_ARGS+=(--command-config "$KAFKA_COMMAND_CONFIG")
fi

case "$ACTION" in
  add) ACTION_ARGS=(--add) ;;
  remove) ACTION_ARGS=(--remove --force) ;;
  *) echo "ACL_ACTION must be add or remove, not '$ACTION'" >&2; exit 64 ;;
esac

P_GATEWAY="${PRINCIPAL_GATEWAY:-User:onesource-gateway}"
P_CATALOG="${PRINCIPAL_CATALOG:-User:onesource-catalog}"
P_EXCHANGE="${PRINCIPAL_EXCHANGE:-User:onesource-exchange}"
P_POPULATION="${PRINCIPAL_POPULATION:-User:onesource-population}"
P_LEGAL_ENTITY="${PRINCIPAL_LEGAL_ENTITY:-User:onesource-legal-entity}"
P_GEO="${PRINCIPAL_GEO:-User:onesource-geo}"
P_MACROECONOMY="${PRINCIPAL_MACROECONOMY:-User:onesource-macroeconomy}"

SOURCE_TOPICS=(
  onesource.identity.department.v1
  onesource.identity.client.v1
  onesource.catalog.resource.v1
  onesource.exchange.grant.v1
  onesource.exchange.share-request.v1
  onesource.population.person.v1
  onesource.legal-entity.entity.v1
  onesource.geo.division.v1
  onesource.geo.address.v1
  onesource.geo.parcel.v1
  onesource.macroeconomy.observation.v1
  onesource.macroeconomy.release.v1
)
DELIVERY_PREFIX=onesource.delivery.

run() {
  local cmd=("$ACLS_CMD" "${CLIENT_ARGS[@]}" "$@")
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%q ' "${cmd[@]}"
    printf '\n'
  else
    "${cmd[@]}"
  fi
}

# acl <principal> <pattern-type literal|prefixed> <resource-flag --topic|--group> <name> <operation>...
acl() {
  local principal="$1" pattern="$2" kind="$3" name="$4"
  shift 4
  local ops=()
  local op
  for op in "$@"; do ops+=(--operation "$op"); done
  run "${ACTION_ARGS[@]}" --allow-principal "$principal" "${ops[@]}" \
      --resource-pattern-type "$pattern" "$kind" "$name"
}

# owns <principal> <topic>...   — the only writer of these source topics
owns() {
  local principal="$1" topic
  shift
  for topic in "$@"; do
    acl "$principal" literal --topic "$topic" Write Describe Create
  done
}

# reads <principal> <topic>...  — consumes these source topics
reads() {
  local principal="$1" topic
  shift
  for topic in "$@"; do
    acl "$principal" literal --topic "$topic" Read Describe
  done
}

# consumer_groups <principal> <service>  — may use consumer groups named onesource.<service>.*
consumer_groups() {
  acl "$1" prefixed --group "onesource.$2." Read Describe
}

services() {
  owns "$P_GATEWAY" onesource.identity.department.v1 onesource.identity.client.v1
  reads "$P_GATEWAY" onesource.exchange.grant.v1 onesource.catalog.resource.v1
  consumer_groups "$P_GATEWAY" gateway

  owns "$P_CATALOG" onesource.catalog.resource.v1
  consumer_groups "$P_CATALOG" catalog

  owns "$P_EXCHANGE" onesource.exchange.grant.v1 onesource.exchange.share-request.v1
  reads "$P_EXCHANGE" "${SOURCE_TOPICS[@]}"
  acl "$P_EXCHANGE" prefixed --topic "$DELIVERY_PREFIX" Create Write Describe DescribeConfigs
  consumer_groups "$P_EXCHANGE" exchange

  owns "$P_POPULATION" onesource.population.person.v1
  consumer_groups "$P_POPULATION" population

  owns "$P_LEGAL_ENTITY" onesource.legal-entity.entity.v1
  consumer_groups "$P_LEGAL_ENTITY" legal-entity

  owns "$P_GEO" onesource.geo.division.v1 onesource.geo.address.v1 onesource.geo.parcel.v1
  consumer_groups "$P_GEO" geo

  owns "$P_MACROECONOMY" onesource.macroeconomy.observation.v1 onesource.macroeconomy.release.v1
  consumer_groups "$P_MACROECONOMY" macroeconomy
}

integrator() {
  local department="${1:-}" principal="${2:-}"
  if [[ ! "$department" =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ || -z "$principal" ]]; then
    echo "usage: $0 integrator <department-code: letters, digits, _ or - (no dots)> <principal, e.g. User:civil-affairs-integrator>" >&2
    exit 64
  fi
  local prefix="${DELIVERY_PREFIX}${department}."
  acl "$principal" prefixed --topic "$prefix" Read Describe
  acl "$principal" prefixed --group "$prefix" Read Describe
}

case "${1:-}" in
  services) services ;;
  integrator) shift; integrator "$@" ;;
  list) run --list ;;
  *)
    sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 64
    ;;
esac
