// Follow Gatehouse's leads and opportunities: an integrator's consumer of gatehouse.sales.events.v1
// with kafka-clients and the classes protoc generates from Gatehouse's .proto files (pom.xml).
//
// Routes and deduplicates on the CloudEvents headers every record carries (ce_type, ce_id;
// docs/events.md), decodes the record value (a gatehouse.kernel.v1.EventEnvelope) and the lead or
// opportunity event inside it, and prints one line per change. It assigns every partition itself
// and commits nothing, so it can start anywhere; a real integration would use a consumer group and
// keep the ids it has seen (or its position) with its own data.
package dev.gatehouse.examples;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import gatehouse.kernel.v1.Envelope.EventEnvelope;
import gatehouse.sales.v1.Events;
import java.io.FileReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class FollowSalesEvents {
    /** The lead and opportunity events, by ce_type, with the parser of each. */
    private static final Map<String, Parser> PARSERS = Map.of(
            "gatehouse.sales.v1.LeadCreated", Events.LeadCreated::parseFrom,
            "gatehouse.sales.v1.LeadAssigned", Events.LeadAssigned::parseFrom,
            "gatehouse.sales.v1.LeadQualified", Events.LeadQualified::parseFrom,
            "gatehouse.sales.v1.LeadDisqualified", Events.LeadDisqualified::parseFrom,
            "gatehouse.sales.v1.OpportunityCreated", Events.OpportunityCreated::parseFrom,
            "gatehouse.sales.v1.OpportunityWon", Events.OpportunityWon::parseFrom,
            "gatehouse.sales.v1.OpportunityLost", Events.OpportunityLost::parseFrom);

    @FunctionalInterface
    private interface Parser {
        Message parse(com.google.protobuf.ByteString bytes) throws InvalidProtocolBufferException;
    }

    private FollowSalesEvents() {}

    public static void main(String[] args) throws IOException {
        String bootstrap = null;
        String topic = "gatehouse.sales.events.v1";
        String from = "beginning";
        String configFile = null;
        boolean exitAtEnd = false;
        for (int i = 0; i < args.length; ++i) {
            switch (args[i]) {
                case "-b" -> bootstrap = args[++i];
                case "-topic" -> topic = args[++i];
                case "-from" -> from = args[++i];
                case "-config" -> configFile = args[++i];
                case "-exit" -> exitAtEnd = true;
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (bootstrap == null) {
            usage("-b host:port is required");
        }
        Properties config = new Properties();
        if (configFile != null) {
            try (FileReader reader = new FileReader(configFile, StandardCharsets.UTF_8)) {
                config.load(reader);  // security.protocol, sasl.mechanism, sasl.jaas.config
            }
        }
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

        Set<String> seen = new HashSet<>();
        int duplicates = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition()))
                    .toList();
            consumer.assign(partitions);
            seek(consumer, partitions, from);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            JsonFormat.Printer json = JsonFormat.printer().omittingInsignificantWhitespace().sortingMapKeys();
            while (!exitAtEnd || !reachedEnd(consumer, ends)) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    Map<String, String> headers = new HashMap<>();
                    for (Header header : record.headers()) {
                        headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
                    }
                    Parser parser = PARSERS.get(headers.getOrDefault("ce_type", ""));
                    if (parser == null) {
                        continue;  // accounts, contacts, appointments, notes: not followed here
                    }
                    if (!seen.add(headers.get("ce_id"))) {
                        ++duplicates;
                        continue;
                    }
                    EventEnvelope envelope = EventEnvelope.parseFrom(record.value());
                    Message event = parser.parse(envelope.getPayload());
                    String type = headers.get("ce_type");
                    System.out.printf("%-18s %-15s v%d  %s  by %s  %s%n", type.substring(type.lastIndexOf('.') + 1),
                            envelope.getAggregateId(), envelope.getAggregateVersion(), headers.get("ce_time"),
                            envelope.getActor(), json.print(event));
                }
            }
        }
        System.out.printf("-- %d lead and opportunity events, %d duplicates skipped%n", seen.size(), duplicates);
    }

    private static void seek(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions, String from) {
        switch (from) {
            case "beginning" -> consumer.seekToBeginning(partitions);
            case "end" -> consumer.seekToEnd(partitions);
            default -> {
                long millis = OffsetDateTime.parse(from).toInstant().toEpochMilli();
                Map<TopicPartition, Long> query = new HashMap<>();
                partitions.forEach(partition -> query.put(partition, millis));
                Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query, Duration.ofSeconds(30));
                List<TopicPartition> none = partitions.stream().filter(p -> found.get(p) == null).toList();
                found.forEach((partition, offset) -> {
                    if (offset != null) {
                        consumer.seek(partition, offset.offset());
                    }
                });
                consumer.seekToEnd(none);  // nothing at or after that time
            }
        }
    }

    private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
        return ends.entrySet().stream().allMatch(end -> consumer.position(end.getKey()) >= end.getValue());
    }

    private static void usage(String why) {
        System.err.println("follow-sales-events: " + why);
        System.err.println("usage: java -jar follow-sales-events.jar -b host:port [-topic T] "
                + "[-from beginning|end|<RFC 3339 time>] [-config client.properties] [-exit]");
        System.exit(2);
    }
}
