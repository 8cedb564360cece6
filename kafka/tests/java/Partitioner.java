// Kafka's Java producer's default partitioner, asked directly: each stdin line is
// "<key as hex> <partition count>", each stdout line the partition Kafka's
// BuiltInPartitioner picks for that key.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.HexFormat;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;

public class Partitioner {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ", -1);
            byte[] key = HexFormat.of().parseHex(f[0]);
            out.append(BuiltInPartitioner.partitionForKey(key, Integer.parseInt(f[1]))).append('\n');
        }
        System.out.print(out);
    }
}
