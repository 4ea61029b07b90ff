# syntax=docker/dockerfile:1
# One image for the four services; the command picks the service:
#   java -cp "/app/fleet.jar:/app/lib/*" io.tunefleet.cli.Fleet run trainer
# Targets:
#   cpu (default)  libtorch for CPU from the pytorch-native-cpu jar, unpacked at build time
#   gpu            libtorch with CUDA in /opt/libtorch, found through PYTORCH_LIBRARY_PATH
#   docker build -t tunefleet:0.1.0 .
#   docker build --target gpu -t tunefleet:0.1.0-gpu .

# build and runtime share Ubuntu 24.04, so DJL picks the same libtorch variant when it was unpacked and when it runs
ARG JAVA_RUNTIME=eclipse-temurin:17-jre-noble

# ---- build: the fleet jar and its runtime libraries (services/cli/target/fleet.jar + lib/) ----
# Only the cli and what it needs: the benchmarks (services/bench) and Kafka's broker jars, which the cli takes
# in test scope only, stay out of the image. `fleet up` here needs FLEET_BOOTSTRAP_SERVERS and says so without it.
FROM maven:3.9-eclipse-temurin-17-noble AS build
WORKDIR /src
COPY pom.xml ./
COPY proto proto
COPY services services
# every module of the reactor must be present, also those this build leaves out
COPY examples examples
RUN --mount=type=cache,target=/root/.m2 mvn -B -q -DskipTests -pl services/cli -am package \
 && mkdir -p /out \
 && cp services/cli/target/fleet.jar /out/fleet.jar \
 && cp -r services/cli/target/lib /out/lib
# Unpack DJL's libtorch (about 430 MB) now rather than in every container at start-up, so the
# services run on a read-only root file system. Loading the engine is what unpacks it.
RUN printf '%s\n' 'public class WarmUp { public static void main(String[] a) {' \
      '  System.out.println("libtorch " + ai.djl.engine.Engine.getEngine("PyTorch").getVersion()); } }' > /tmp/WarmUp.java \
 && DJL_CACHE_DIR=/out/djl java -Dai.djl.offline=true -cp "/out/fleet.jar:/out/lib/*" /tmp/WarmUp.java

# ---- cpu ----
FROM ${JAVA_RUNTIME} AS cpu
RUN groupadd --system --gid 10001 fleet \
 && useradd --system --uid 10001 --gid fleet --home-dir /app --no-create-home --shell /usr/sbin/nologin fleet \
 && mkdir -p /data/blobs && chown 10001:10001 /data/blobs
WORKDIR /app
COPY --from=build /out/lib /app/lib
COPY --from=build /out/fleet.jar /app/fleet.jar
COPY --from=build /out/djl /opt/djl
COPY datasets /app/datasets
# Requests name datasets relative to /app (datasets/fashion-mnist/...), as in the repository.
ENV FLEET_DATA_ROOTS=/app/datasets \
    FLEET_BLOB_ROOT=/data/blobs \
    DJL_CACHE_DIR=/opt/djl \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
EXPOSE 9401 9402 9403 9404
CMD ["java", "-cp", "/app/fleet.jar:/app/lib/*", "io.tunefleet.cli.Fleet", "--help"]

# ---- gpu ----
# CUDA builds of libtorch are not on Maven Central: the image brings libtorch 2.7.1 for CUDA 12.8
# (matching pytorch-jni 2.7.1-0.36.0, whose jar carries the cu128 JNI library) and points DJL at it.
# The host needs an NVIDIA driver for CUDA 12.8 and the NVIDIA container runtime.
FROM nvidia/cuda:12.8.1-base-ubuntu22.04 AS gpu
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/cu128/libtorch-cxx11-abi-shared-with-deps-2.7.1%2Bcu128.zip
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless curl unzip ca-certificates \
 && curl -fsSL "$LIBTORCH_URL" -o /tmp/libtorch.zip \
 && unzip -q /tmp/libtorch.zip -d /opt \
 && rm /tmp/libtorch.zip \
 && apt-get purge -y curl unzip && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 fleet \
 && useradd --system --uid 10001 --gid fleet --home-dir /app --no-create-home --shell /usr/sbin/nologin fleet \
 && mkdir -p /data/blobs && chown 10001:10001 /data/blobs
WORKDIR /app
COPY --from=build /out/lib /app/lib
COPY --from=build /out/fleet.jar /app/fleet.jar
COPY datasets /app/datasets
# Do not set PYTORCH_VERSION or PYTORCH_FLAVOR: either sends DJL to its download path. DJL unpacks
# only the small JNI library, into DJL_CACHE_DIR (a writable tmpfs / emptyDir at /tmp).
ENV PYTORCH_LIBRARY_PATH=/opt/libtorch/lib \
    LD_LIBRARY_PATH=/opt/libtorch/lib \
    FLEET_DEVICE=gpu \
    FLEET_DATA_ROOTS=/app/datasets \
    FLEET_BLOB_ROOT=/data/blobs \
    DJL_CACHE_DIR=/tmp/djl \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
EXPOSE 9402
CMD ["java", "-cp", "/app/fleet.jar:/app/lib/*", "io.tunefleet.cli.Fleet", "run", "trainer"]

# The default target.
FROM cpu
