package councilsearch.devnode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.codelibs.opensearch.runner.OpenSearchRunner;
import org.opensearch.cluster.health.ClusterHealthStatus;

/**
 * One OpenSearch 2.19.1 node for tests and development, in this JVM.
 *
 * <p>HTTP on 127.0.0.1 only and NO security plugin (no TLS, no authentication): for a developer's
 * machine and CI, never for production (docker-compose.yml runs the official image with the
 * security plugin on). Modules: the runner's default set (HTTP transport, analysis-common,
 * mapper-extras, painless, ...) plus the k-NN plugin, named by class because it is on the
 * classpath rather than under plugins/ (its descriptor extends lang-painless, which is itself a
 * classpath module here, so it cannot be loaded as a directory plugin).
 *
 * <p>Usage: {@code java -Xmx512m -cp 'target/classes:target/lib/*:target/knn/*'
 * councilsearch.devnode.Main [--port 9200] [--home var/opensearch]}. Prints
 * {@code OPENSEARCH_URL=http://127.0.0.1:<port>} once the cluster is yellow or green, then runs
 * until SIGTERM/SIGINT, which closes the node cleanly.
 */
public final class Main {

    private Main() {
    }

    public static void main(final String[] args) throws Exception {
        int port = 9200;
        String home = "var/opensearch";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
            case "--port":
                port = Integer.parseInt(args[++i]);
                break;
            case "--home":
                home = args[++i];
                break;
            default:
                System.err.println("unknown argument: " + args[i]
                        + " (usage: Main [--port N] [--home DIR])");
                System.exit(2);
            }
        }
        final Path homePath = Paths.get(home).toAbsolutePath();
        Files.createDirectories(homePath);
        final int httpPort = port;

        final OpenSearchRunner runner = new OpenSearchRunner();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final IOException e) {
                System.err.println("closing the node: " + e);
            }
        }, "dev-node-shutdown"));

        runner.onBuild((number, settings) -> {
            settings.put("network.host", "127.0.0.1");
            // An explicit port: the runner would otherwise move to the next free one silently,
            // and the printed URL must be the one the caller asked for (or the start fails).
            settings.put("http.port", String.valueOf(httpPort));
            settings.put("discovery.type", "single-node");
            // Same as docker-compose.yml: every analysed query token is a clause.
            settings.put("indices.query.bool.max_clause_count", "32768");
            // Shared development disks are often above the 85/90% watermarks; a test node must
            // not turn read-only because of other people's files.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        }).build(OpenSearchRunner.newConfigs()
                .basePath(homePath.toString())
                .numOfNode(1)
                .clusterName("council-search-dev")
                .pluginTypes("org.opensearch.knn.plugin.KNNPlugin"));

        final ClusterHealthStatus status = runner.ensureYellow();
        System.out.println("cluster health: " + status);
        System.out.println("OPENSEARCH_URL=http://127.0.0.1:" + httpPort);
        System.out.flush();

        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }
}
