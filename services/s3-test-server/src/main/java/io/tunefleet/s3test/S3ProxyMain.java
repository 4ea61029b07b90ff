package io.tunefleet.s3test;

import java.net.URI;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.TransientApiMetadata;

/**
 * Runs S3Proxy over jclouds' in-memory blob store: {@code S3ProxyMain PORT ACCESS_KEY SECRET_KEY [BUCKET...]}
 * (port 0: any free one). Prints {@code listening on http://127.0.0.1:PORT} once it serves, then runs until
 * killed or, with {@code -Dfleet.s3proxy.exitWithStdin=true}, until its standard input closes (so that it never
 * outlives the test JVM that started it).
 */
public final class S3ProxyMain {
  private S3ProxyMain() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String access = args[1];
    String secret = args[2];
    // the in-memory API given directly: jclouds' provider scan would load every cloud SDK
    BlobStoreContext context = ContextBuilder.newBuilder(new TransientApiMetadata()).credentials(access, secret)
        .build(BlobStoreContext.class);
    for (int i = 3; i < args.length; i++) {
      context.getBlobStore().createContainerInLocation(null, args[i]);
    }
    S3Proxy proxy = S3Proxy.builder().blobStore(context.getBlobStore())
        .endpoint(URI.create("http://127.0.0.1:" + port))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, access, secret)
        .v4MaxNonChunkedRequestSize(512L << 20)
        .build();
    proxy.start();
    while (!"STARTED".equals(proxy.getState())) {
      Thread.sleep(10);
    }
    System.out.println("listening on http://127.0.0.1:" + proxy.getPort());
    System.out.flush();
    if (Boolean.getBoolean("fleet.s3proxy.exitWithStdin")) {
      while (System.in.read() >= 0) {
        // the parent holds the pipe open while it wants the server
      }
      proxy.stop();
      context.close();
      System.exit(0);
    }
    Thread.currentThread().join();
  }
}
