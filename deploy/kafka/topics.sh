#!/usr/bin/env bash
# Create the OneSource source topics. Idempotent (--if-not-exists): safe to run on every deploy.
#
#   KAFKA_BOOTSTRAP=kafka-1:9092,kafka-2:9092,kafka-3:9092 deploy/kafka/topics.sh
#
# Settings (environment):
#   KAFKA_BOOTSTRAP        broker list                    (default kafka-1:9092,kafka-2:9092,kafka-3:9092)
#   KAFKA_BIN              directory of the Kafka CLI     (default /opt/kafka/bin, else kafka-topics.sh on PATH)
#   KAFKA_COMMAND_CONFIG   client properties for an authenticated cluster (SASL/mTLS), passed as --command-config
#   TOPIC_PARTITIONS       default 6
#   TOPIC_REPLICATION      default 3       (production: never below 3)
#   TOPIC_MIN_ISR          default 2       (production: 2, so acks=all survives one broker down)
#   WAIT_SECONDS           how long to wait for the cluster to answer (default 120)
#
# Source topics are named onesource.<domain>.<entity>.v1 and keyed by the record key (CloudEvent subject), so
# per-record order holds within a partition. Changing the partition count later re-maps keys to partitions:
# choose it once. Delivery topics (onesource.delivery.<department>.<resource>) are NOT created here; the
# exchange service creates them per subscription (its ACLs allow Create on that prefix, see acls.sh).
# Retention is the broker default (7 days); registries can always re-publish from their own database.
set -euo pipefail

BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka-1:9092,kafka-2:9092,kafka-3:9092}"
PARTITIONS="${TOPIC_PARTITIONS:-6}"
REPLICATION="${TOPIC_REPLICATION:-3}"
MIN_ISR="${TOPIC_MIN_ISR:-2}"
WAIT_SECONDS="${WAIT_SECONDS:-120}"

if [[ -n "${KAFKA_BIN:-}" ]]; then
  TOPICS_CMD="${KAFKA_BIN%/}/kafka-topics.sh"
elif [[ -x /opt/kafka/bin/kafka-topics.sh ]]; then
  TOPICS_CMD=/opt/kafka/bin/kafka-topics.sh
else
  TOPICS_CMD=kafka-topics.sh
fi

CLIENT_ARGS=(--bootstrap-server "$BOOTSTRAP")
if [[ -n "${KAFKA_COMMAND_CONFIG:-}" ]]; then
  CLIENT_ARGS+=(--command-config "$KAFKA_COMMAND_CONFIG")
fi

# Keep in sync with the services' topic names (and contracts/ AsyncAPI).
TOPICS=(
  onesource.identity.department.v1        # gateway
  onesource.identity.client.v1            # gateway
  onesource.catalog.resource.v1           # catalog-service
  onesource.exchange.grant.v1             # exchange-service
  onesource.exchange.share-request.v1     # exchange-service
  onesource.population.person.v1          # population-db
  onesource.legal-entity.entity.v1        # legal-entity-db
  onesource.geo.division.v1               # geo-db
  onesource.geo.address.v1                # geo-db
  onesource.geo.parcel.v1                 # geo-db
  onesource.macroeconomy.observation.v1   # macroeconomy-db
  onesource.macroeconomy.release.v1       # macroeconomy-db
)

echo "waiting for Kafka at $BOOTSTRAP (up to ${WAIT_SECONDS}s)"
deadline=$((SECONDS + WAIT_SECONDS))
until "$TOPICS_CMD" "${CLIENT_ARGS[@]}" --list >/dev/null 2>&1; do
  if (( SECONDS >= deadline )); then
    echo "Kafka at $BOOTSTRAP did not answer within ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 2
done

for topic in "${TOPICS[@]}"; do
  echo "topic $topic (partitions=$PARTITIONS replication=$REPLICATION min.insync.replicas=$MIN_ISR)"
  "$TOPICS_CMD" "${CLIENT_ARGS[@]}" --create --if-not-exists \
    --topic "$topic" \
    --partitions "$PARTITIONS" \
    --replication-factor "$REPLICATION" \
    --config "min.insync.replicas=$MIN_ISR" \
    --config cleanup.policy=delete \
    --config unclean.leader.election.enable=false
done

# --if-not-exists leaves an existing topic untouched: report any that drifted from the wanted settings.
status=0
for topic in "${TOPICS[@]}"; do
  description="$("$TOPICS_CMD" "${CLIENT_ARGS[@]}" --describe --topic "$topic")"
  summary="${description%%$'\n'*}"   # first line: Topic, PartitionCount, ReplicationFactor, Configs
  if ! [[ $summary =~ PartitionCount:[[:space:]]*${PARTITIONS}([^0-9]|$) ]] \
     || ! [[ $summary =~ ReplicationFactor:[[:space:]]*${REPLICATION}([^0-9]|$) ]] \
     || ! [[ $summary =~ min\.insync\.replicas=${MIN_ISR}([^0-9]|$) ]]; then
    echo "WARNING: $topic exists with different settings: $summary" >&2
    status=2
  fi
done

echo "source topics ready"
exit "$status"
