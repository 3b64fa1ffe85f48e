package org.govservice.solr;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.solr.core.CoreContainer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Runs a real, standalone Solr 9 in this JVM, the way a Solr distribution's bin/solr would, but
 * from Maven Central jars: there is no Solr Debian package and no Docker on our machines.
 *
 * <pre>java ... org.govservice.solr.SolrLauncher --home SOLR_HOME --port 8983 [--zk-host HOST:PORT]</pre>
 *
 * <p>With {@code --zk-host} the node runs in SolrCloud mode: it registers with that ZooKeeper
 * (the solr.xml in SOLR_HOME must have a {@code <solrcloud>} section, as stack/solr/solr-cloud.xml
 * does) and serves the collections whose replicas are placed on it; stack/solr/cloud.sh starts two.
 *
 * Serves http://127.0.0.1:PORT/solr (JettySolrRunner always binds its connector to 127.0.0.1),
 * prints exactly one "solr ready on ..." line once every core has loaded, and stops Solr cleanly
 * (cores closed, index writers released) on SIGTERM / SIGINT.
 *
 * Exit codes: 2 bad arguments, 3 port already in use, 4 a core failed to load, 1 anything else.
 */
public final class SolrLauncher {

  private static final String HOST = "127.0.0.1";
  private static final String CONTEXT = "/solr";

  // Jersey (Solr's v2 API plumbing) logs through java.util.logging and warns at every start
  // about an optional provider it cannot find. Held here so the setting is not collected.
  private static final Logger JERSEY_LOG = Logger.getLogger("org.glassfish.jersey");

  private SolrLauncher() {}

  public static void main(String[] args) {
    JERSEY_LOG.setLevel(Level.SEVERE);
    Path home = null;
    int port = 8983;
    String zkHost = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (("--home".equals(a) || "--port".equals(a) || "--zk-host".equals(a)) && i + 1 >= args.length) {
        usage(a + " needs a value");
      }
      switch (a) {
        case "--home":
          home = Path.of(args[++i]).toAbsolutePath().normalize();
          break;
        case "--port":
          try {
            port = Integer.parseInt(args[++i]);
          } catch (NumberFormatException e) {
            usage("--port must be a number, got '" + args[i] + "'");
          }
          if (port < 1 || port > 65535) usage("--port must be 1..65535, got " + port);
          break;
        case "--zk-host":
          zkHost = args[++i];
          if (!zkHost.matches("[A-Za-z0-9.-]+:[0-9]+(,[A-Za-z0-9.-]+:[0-9]+)*(/[A-Za-z0-9_/-]*)?")) {
            usage("--zk-host must be HOST:PORT[,HOST:PORT...][/chroot], got '" + zkHost + "'");
          }
          break;
        case "-h":
        case "--help":
          usage(null);
          break;
        default:
          usage("unknown argument '" + a + "'");
      }
    }
    if (home == null) usage("--home is required");
    if (!Files.isRegularFile(home.resolve("solr.xml"))) {
      fail(2, "no solr.xml in solr home " + home + " (run stack/solr/prepare-home.sh first)");
    }

    // Cheap early check so a taken port gives a clear message, not a stack trace. Jetty's own
    // bind below is still checked too, in case something grabs the port in between.
    if (!portFree(port)) portTaken(port);

    JettyConfig config =
        JettyConfig.builder()
            .setContext(CONTEXT)
            .setPort(port)
            .withPortRetryTime(0) // the default retries a taken port for 60 s
            .stopAtShutdown(false) // our own hook below stops Solr, then Jetty
            .enableV2(false) // CKAN only speaks the v1 API under /solr
            .waitForLoadingCoresToFinish(300_000L)
            .build();
    Properties nodeProps = new Properties();
    nodeProps.setProperty("host", HOST); // the node's advertised name; the bind address is fixed
    if (zkHost != null) {
      // solr-cloud.xml reads ${zkHost} and ${hostPort}; the node registers as 127.0.0.1:PORT_solr
      nodeProps.setProperty("zkHost", zkHost);
      nodeProps.setProperty("hostPort", Integer.toString(port));
      System.setProperty("zkHost", zkHost);
    }
    JettySolrRunner solr = new JettySolrRunner(home.toString(), nodeProps, config);

    // Registered before start(): start() and stop() are synchronized, so a SIGTERM during
    // start-up waits for it to finish and then stops Solr properly.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopQuietly(solr);
                  System.out.println("solr stopped");
                },
                "solr-shutdown"));

    try {
      solr.start();
    } catch (Exception e) {
      if (hasCause(e, BindException.class)) portTaken(port);
      e.printStackTrace();
      fail(1, "solr failed to start: " + e);
    }

    CoreContainer cores = solr.getCoreContainer();
    Map<String, CoreContainer.CoreLoadFailure> failures = cores.getCoreInitFailures();
    if (!failures.isEmpty()) {
      failures.forEach(
          (name, f) -> {
            System.err.println("error: solr core '" + name + "' failed to load:");
            f.exception.printStackTrace();
          });
      stopQuietly(solr);
      fail(4, "solr core(s) failed to load: " + failures.keySet());
    }
    if (cores.getAllCoreNames().isEmpty()) {
      System.err.println("warning: no cores found under " + home);
    }

    System.out.println("solr ready on http://" + HOST + ":" + solr.getLocalPort() + CONTEXT
        + (zkHost == null ? "" : " (SolrCloud, ZooKeeper " + zkHost + ")"));
    // Jetty's non-daemon threads keep the JVM alive until SIGTERM.
  }

  private static void stopQuietly(JettySolrRunner solr) {
    try {
      solr.stop();
    } catch (Exception e) {
      System.err.println("error while stopping solr: " + e);
    }
  }

  private static boolean portFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(HOST), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void portTaken(int port) {
    fail(3, "port " + port + " on " + HOST + " is already in use; stop whatever listens there"
        + " (ss -ltnp 'sport = :" + port + "') or pick another --port");
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) return true;
    }
    return false;
  }

  private static void usage(String problem) {
    if (problem != null) System.err.println("error: " + problem);
    System.err.println("usage: SolrLauncher --home SOLR_HOME [--port 8983] [--zk-host HOST:PORT]");
    System.exit(problem == null ? 0 : 2);
  }

  private static void fail(int code, String message) {
    System.err.println("error: " + message);
    // halt, not exit: a half-started Jetty/Solr must not run shutdown hooks or keep us alive
    System.out.flush();
    System.err.flush();
    Runtime.getRuntime().halt(code);
  }
}
