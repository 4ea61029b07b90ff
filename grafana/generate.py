#!/usr/bin/env python3
"""Writes the fleet's Grafana dashboards, grafana/dashboards/*.json, from the panel lists below.

    python3 grafana/generate.py        # rewrites the four JSON files

The JSON files are what Grafana loads and what ObservabilityIT checks (valid JSON, unique panel ids,
every metric exported, every query finds data); edit here and regenerate, or edit the JSON directly.
"""
import json
import os
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
DS = {"type": "prometheus", "uid": "${datasource}"}
RI = "$__rate_interval"
SERVICES = "data-augmenter|trainer|evaluator|distiller"


def ds_var():
    return {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
            "current": {"selected": False, "text": "Prometheus", "value": "prometheus"},
            "hide": 0, "refresh": 1, "regex": "", "options": []}


def query_var(name, label, query, multi=False, include_all=False, all_value=None):
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1},
         "definition": query, "refresh": 2, "sort": 1, "hide": 0, "multi": multi, "includeAll": include_all,
         "current": {}, "options": [], "regex": ""}
    if all_value is not None:
        v["allValue"] = all_value
    return v


class Board:
    def __init__(self, uid, title, description, tags, variables):
        self.uid, self.title, self.description, self.tags, self.variables = uid, title, description, tags, variables
        self.panels = []
        self.next_id = 1
        self.y = 0
        self.x = 0
        self.row_h = 0

    def _place(self, w, h):
        if self.x + w > 24:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def newline(self):
        if self.x:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0

    def row(self, title):
        self.newline()
        self.panels.append({"id": self.next_id, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}, "panels": []})
        self.next_id += 1
        self.y += 1

    def panel(self, kind, title, description, targets, w=12, h=8, unit=None, decimals=None, min_=None, max_=None,
              thresholds=None, options=None, custom=None, overrides=None):
        refs = "ABCDEFGHIJ"
        defaults = {"unit": unit or "short"}
        if decimals is not None:
            defaults["decimals"] = decimals
        if min_ is not None:
            defaults["min"] = min_
        if max_ is not None:
            defaults["max"] = max_
        defaults["thresholds"] = {"mode": "absolute", "steps": thresholds or [{"color": "green", "value": None}]}
        defaults["color"] = {"mode": "thresholds" if kind in ("stat", "bargauge", "gauge") else "palette-classic"}
        if kind == "timeseries":
            defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                                  "spanNulls": True, "axisSoftMin": 0 if min_ is None else None}
            if custom:
                defaults["custom"].update(custom)
            defaults["custom"] = {k: v for k, v in defaults["custom"].items() if v is not None}
        p = {"id": self.next_id, "type": kind, "title": title, "description": description, "datasource": DS,
             "gridPos": self._place(w, h),
             "targets": [{"refId": refs[i], "datasource": DS, "expr": expr, "legendFormat": legend,
                          "range": True, "instant": kind in ("stat", "bargauge", "table") and False}
                         for i, (expr, legend) in enumerate(targets)],
             "fieldConfig": {"defaults": defaults, "overrides": overrides or []}}
        if options:
            p["options"] = options
        elif kind == "timeseries":
            p["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                            "tooltip": {"mode": "multi", "sort": "desc"}}
        elif kind == "stat":
            p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "colorMode": "value", "graphMode": "area", "textMode": "auto", "justifyMode": "auto",
                            "orientation": "auto"}
        elif kind == "bargauge":
            p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "displayMode": "basic", "orientation": "horizontal", "showUnfilled": True}
        self.panels.append(p)
        self.next_id += 1
        return p

    def alertlist(self, title, w=24, h=6):
        self.panels.append({"id": self.next_id, "type": "alertlist", "title": title,
                            "description": "Alerts of deploy/prometheus/alerts.yml that fire now.",
                            "gridPos": self._place(w, h),
                            "options": {"alertInstanceLabelFilter": "", "alertName": "", "dashboardAlerts": False,
                                        "groupBy": [], "groupMode": "default", "maxItems": 20, "sortOrder": 1,
                                        "stateFilter": {"firing": True, "pending": True, "noData": False,
                                                        "normal": False, "error": True},
                                        "viewMode": "list"}})
        self.next_id += 1

    def json(self):
        return {"uid": self.uid, "title": self.title, "description": self.description, "tags": self.tags,
                "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1, "refresh": "10s",
                "time": {"from": "now-1h", "to": "now"}, "timepicker": {}, "timezone": "",
                "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "",
                "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                          "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                          "name": "Annotations & Alerts", "type": "dashboard"}]},
                "links": [{"title": "TuneFleet", "type": "dashboards", "tags": ["tunefleet"], "asDropdown": True,
                           "includeVars": False, "keepTime": True}],
                "templating": {"list": self.variables}, "panels": self.panels}


def overview():
    b = Board("tunefleet-overview", "TuneFleet / Fleet overview",
              "Jobs by state, throughput, Kafka consumer lag and replicas of the four fleet services.",
              ["tunefleet"], [ds_var()])
    b.row("Fleet")
    b.panel("bargauge", "Jobs by state",
            "fleet_jobs: jobs in each state as the services last reported them (max over replicas).",
            [("max by (state) (fleet_jobs)", "{{state}}")], w=8, h=7, decimals=0)
    b.panel("stat", "Replicas up", "Scrape targets answering, per service (Prometheus `up`).",
            [(f'sum by (job) (up{{job=~"{SERVICES}"}})', "{{job}}")], w=8, h=7, decimals=0)
    b.panel("stat", "Models finished (24 h)", "Finished-model events published by the distiller.",
            [("sum(increase(fleet_distiller_models_finished_total[24h]))", "models")], w=4, h=7, decimals=0)
    b.panel("stat", "Jobs failed (24 h)", "Rise of fleet_jobs{state=\"failed\"}; `fleet status JOB` says why.",
            [('sum(increase(fleet_jobs{state="failed"}[24h]))', "failed")], w=4, h=7, decimals=0,
            thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 1}])
    b.row("Throughput")
    b.panel("timeseries", "Images per second",
            "Images trained on (teacher and student) and images augmented, over all replicas.",
            [(f"sum(rate(fleet_trainer_images_total[{RI}]))", "trainer"),
             (f"sum(rate(fleet_distiller_images_total[{RI}]))", "distiller"),
             (f"sum(rate(fleet_augmenter_images_total[{RI}]))", "data-augmenter")], unit="short")
    b.panel("timeseries", "Optimizer steps per second, by job",
            "Teacher (trainer) and student (distiller) steps per job.",
            [(f"sum by (job_id) (rate(fleet_trainer_steps_total[{RI}]))", "{{job_id}} teacher"),
             (f"sum by (job_id) (rate(fleet_distiller_steps_total[{RI}]))", "{{job_id}} student")])
    b.row("Kafka")
    b.panel("timeseries", "Consumer lag by group and topic",
            "Records not yet consumed, as each consumer reports it (records-lag, summed over partitions). "
            "The trainer's lag on the batches topic is the augmenter's lead.",
            [('sum by (job, topic) (kafka_consumer_fetch_manager_records_lag{topic=~".+[.].+"})', "{{job}} · {{topic}}")])
    b.panel("timeseries", "Partitions owned per replica",
            "A replica owns the jobs on its partitions (one partition number across the co-partitioned topics); "
            "replicas beyond the partition count own none and idle.",
            [("sum by (job, replica) (fleet_consumer_partitions_owned)", "{{job}} · {{replica}}")],
            decimals=0)
    b.panel("timeseries", "Jobs by state over time", "fleet_jobs, max over replicas.",
            [("max by (state) (fleet_jobs)", "{{state}}")], decimals=0)
    b.panel("timeseries", "Consumer group rebalances",
            "Rebalances per service. Only the partitions that move are revoked; their jobs resume from their "
            "last checkpoints on the new owner.",
            [(f"sum by (job) (increase(kafka_consumer_coordinator_rebalance_total[{RI}]))", "{{job}}")], decimals=0)
    b.row("Evaluation")
    b.panel("timeseries", "Evaluation latency", "Time the evaluator takes per checkpoint (mean and max).",
            [(f"sum(rate(fleet_evaluator_evaluation_seconds_sum[{RI}])) / sum(rate(fleet_evaluator_evaluation_seconds_count[{RI}]))", "mean"),
             ("max(fleet_evaluator_evaluation_seconds_max)", "max")], unit="s")
    b.panel("timeseries", "Distillation compression", "Teacher/student parameter ratio of finished models.",
            [(f"sum(rate(fleet_distiller_compression_ratio_sum[{RI}])) / sum(rate(fleet_distiller_compression_ratio_count[{RI}]))", "mean ratio"),
             ("max(fleet_distiller_compression_ratio_max)", "max ratio")], unit="x")
    b.alertlist("Firing and pending alerts")
    return b


def training_job():
    job = 'job_id="$job"'
    b = Board("tunefleet-training-job", "TuneFleet / Training job",
              "Curves of one fine-tuning job: loss, accuracy, validation accuracy and macro-F1, learning rate per "
              "parameter group, unfreeze stage, epoch and early stopping.", ["tunefleet"],
              [ds_var(), query_var("job", "Job", "label_values(fleet_trainer_steps_total, job_id)")])
    b.row("Now")
    b.panel("stat", "Epoch", "Teacher epoch progress (fractional; a checkpoint is written at each integer).",
            [(f"max(fleet_trainer_epoch{{{job}}})", "teacher"), (f"max(fleet_distiller_epoch{{{job}}})", "student")],
            w=4, h=5, decimals=2)
    b.panel("stat", "Unfreeze stage", "Backbone stages trainable so far.",
            [(f"max(fleet_trainer_unfreeze_stage{{{job}}})", "stage")], w=4, h=5, decimals=0)
    b.panel("stat", "Best validation macro-F1", "Best macro-F1 of the teacher so far (early stopping watches it).",
            [(f'max(fleet_evaluator_validation_best_macro_f1{{{job},phase="train"}})', "teacher"),
             (f'max(fleet_evaluator_validation_best_macro_f1{{{job},phase="distill"}})', "student")],
            w=4, h=5, decimals=3, unit="percentunit")
    b.panel("stat", "Epochs without improvement", "Early-stopping counter; the job stops at the recipe's patience.",
            [(f"max by (phase) (fleet_evaluator_validation_epochs_without_improvement{{{job}}})", "{{phase}}")],
            w=4, h=5, decimals=0,
            thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 3}])
    b.panel("stat", "Images per second", "Compute throughput of the current epoch.",
            [(f"max(fleet_trainer_images_per_second{{{job}}})", "teacher"),
             (f"max(fleet_distiller_images_per_second{{{job}}})", "student")], w=4, h=5, decimals=0)
    b.panel("stat", "Trained by (last 5 min)",
            "The replica(s) that applied the job's steps in the last 5 minutes: the owner of its partition "
            "(two during a handover).",
            [(f"sum by (replica) (increase(fleet_trainer_steps_total{{{job}}}[5m])) > 0", "{{replica}}"),
             (f"sum by (replica) (increase(fleet_distiller_steps_total{{{job}}}[5m])) > 0", "{{replica}}")], w=4, h=5,
            options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                     "colorMode": "none", "graphMode": "none", "textMode": "name", "justifyMode": "auto",
                     "orientation": "auto"})
    b.row("Training curves")
    b.panel("timeseries", "Training loss", "Loss of the last step: teacher (fine-tuning) and student (distillation).",
            [(f"fleet_trainer_loss{{{job}}}", "teacher · {{replica}}"), (f"fleet_distiller_loss{{{job}}}", "student · {{replica}}")])
    b.panel("timeseries", "Training accuracy", "Accuracy on the last training batch.",
            [(f"fleet_trainer_accuracy{{{job}}}", "teacher · {{replica}}"), (f"fleet_distiller_accuracy{{{job}}}", "student · {{replica}}")],
            unit="percentunit", min_=0, max_=1)
    b.panel("timeseries", "Validation accuracy and macro-F1", "Evaluator's verdict on each epoch's checkpoint.",
            [(f"fleet_evaluator_validation_accuracy{{{job}}}", "accuracy · {{phase}}"),
             (f"fleet_evaluator_validation_macro_f1{{{job}}}", "macro-F1 · {{phase}}"),
             (f"fleet_evaluator_validation_best_macro_f1{{{job}}}", "best macro-F1 · {{phase}}")],
            unit="percentunit", min_=0, max_=1)
    b.panel("timeseries", "Learning rate per parameter group", "Head and backbone learning rates (schedule and unfreezing).",
            [(f"fleet_trainer_learning_rate{{{job}}}", "teacher · {{group}}"),
             (f"fleet_distiller_learning_rate{{{job}}}", "student · {{group}}")], unit="short",
            custom={"scaleDistribution": {"type": "log", "log": 10}})
    b.row("Progress")
    b.panel("timeseries", "Epoch", "Epoch progress; the integer crossings are the checkpoints.",
            [(f"fleet_trainer_epoch{{{job}}}", "teacher · {{replica}}"), (f"fleet_distiller_epoch{{{job}}}", "student · {{replica}}")],
            w=8, decimals=2)
    b.panel("timeseries", "Unfreeze stage", "Backbone stages trainable, as the unfreeze schedule opens them.",
            [(f"fleet_trainer_unfreeze_stage{{{job}}}", "teacher · {{replica}}")], w=8, decimals=0,
            custom={"drawStyle": "line", "lineInterpolation": "stepAfter"})
    b.panel("timeseries", "Early-stopping counter", "Epochs since the best validation macro-F1.",
            [(f"fleet_evaluator_validation_epochs_without_improvement{{{job}}}", "{{phase}}")], w=8, decimals=0,
            custom={"drawStyle": "line", "lineInterpolation": "stepAfter"})
    b.panel("timeseries", "Steps per second", "Optimizer steps applied per second.",
            [(f"sum(rate(fleet_trainer_steps_total{{{job}}}[{RI}]))", "teacher"),
             (f"sum(rate(fleet_distiller_steps_total{{{job}}}[{RI}]))", "student")])
    b.panel("timeseries", "Step time and data wait", "Mean compute time of a step and mean wait for its batch.",
            [(f"sum(rate(fleet_trainer_step_seconds_sum{{{job}}}[{RI}])) / sum(rate(fleet_trainer_step_seconds_count{{{job}}}[{RI}]))", "teacher step"),
             (f"sum(rate(fleet_trainer_data_wait_seconds_sum{{{job}}}[{RI}])) / sum(rate(fleet_trainer_data_wait_seconds_count{{{job}}}[{RI}]))", "teacher data wait"),
             (f"sum(rate(fleet_distiller_step_seconds_sum{{{job}}}[{RI}])) / sum(rate(fleet_distiller_step_seconds_count{{{job}}}[{RI}]))", "student step"),
             (f"sum(rate(fleet_distiller_data_wait_seconds_sum{{{job}}}[{RI}])) / sum(rate(fleet_distiller_data_wait_seconds_count{{{job}}}[{RI}]))", "student data wait")],
            unit="s")
    b.row("Gradient diagnostics")
    b.panel("timeseries", "Mean |gradient| per stage", "Mean absolute gradient of each stage's trainable parameters "
            "(frozen stages have none). Vanishing or exploding stages show here first.",
            [(f"fleet_trainer_gradient_mean_abs{{{job}}}", "{{stage}}")], w=8, unit="short",
            custom={"scaleDistribution": {"type": "log", "log": 10}})
    b.panel("timeseries", "Head / backbone gradient ratio", "Mean |gradient| of the head over that of the trainable "
            "backbone (0 while the backbone is frozen); the trainer warns outside 1..3.",
            [(f"fleet_trainer_gradient_head_backbone_ratio{{{job}}}", "head / backbone · {{replica}}")], w=8,
            thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 3}],
            custom={"thresholdsStyle": {"mode": "line"}})
    b.panel("timeseries", "Residual block gradient ratio", "|dL/d input| / |dL/d output| of each residual block.",
            [(f"fleet_trainer_gradient_residual_ratio{{{job}}}", "{{block}}")], w=8)
    return b


def data_pipeline():
    b = Board("tunefleet-data-pipeline", "TuneFleet / Data pipeline",
              "Augmenter rates, its lead over the trainer, blob store disk use, and whether trainers wait for data.",
              ["tunefleet"], [ds_var()])
    b.row("Augmenter")
    b.panel("timeseries", "Images augmented per second", "Per augmenter replica, against what the trainers consume.",
            [(f"sum by (replica) (rate(fleet_augmenter_images_total[{RI}]))", "augmenter · {{replica}}"),
             (f"sum(rate(fleet_trainer_images_total[{RI}])) + sum(rate(fleet_distiller_images_total[{RI}]))", "consumed by trainer + distiller")])
    b.panel("timeseries", "Batches written per second", "Batches written to the blob store and announced on the batches topic.",
            [(f"sum by (replica) (rate(fleet_augmenter_batches_total[{RI}]))", "{{replica}}")])
    b.panel("timeseries", "Augmentation time per batch", "Mean and max time to augment and encode one batch.",
            [(f"sum(rate(fleet_augmenter_augment_seconds_sum[{RI}])) / sum(rate(fleet_augmenter_augment_seconds_count[{RI}]))", "mean"),
             ("max(fleet_augmenter_augment_seconds_max)", "max")], w=8, unit="s")
    b.panel("timeseries", "Blob store disk used", "Bytes under FLEET_BLOB_ROOT (batches, checkpoints, models).",
            [("max(fleet_augmenter_blob_disk_used_bytes)", "used")], w=8, unit="bytes")
    b.panel("timeseries", "Augmenter lead over the trainer", "Batches announced but not yet trained on: the trainer group's lag on the batches topic.",
            [('sum by (job, topic) (kafka_consumer_fetch_manager_records_lag{job=~"trainer|distiller",topic=~".+[.]batches"})', "{{job}}")],
            w=8, decimals=0)
    b.row("Trainer input")
    b.panel("timeseries", "Blob store bytes read and written", "Bytes per second each service reads from and writes to the blob store (folder or S3; on S3 the requests' latency per operation is fleet_blob_s3_requests_seconds).",
            [(f"sum by (service) (rate(fleet_blob_read_bytes_total[{RI}]))", "{{service}} read"),
             (f"sum by (service) (rate(fleet_blob_written_bytes_total[{RI}]))", "{{service}} written")], unit="Bps")
    b.panel("timeseries", "Data wait vs step time (per step)", "Mean wait for a batch (read, hash check, decode) against mean compute time, per job.",
            [(f"sum by (job_id) (rate(fleet_trainer_data_wait_seconds_sum[{RI}])) / sum by (job_id) (rate(fleet_trainer_data_wait_seconds_count[{RI}]))", "{{job_id}} data wait"),
             (f"sum by (job_id) (rate(fleet_trainer_step_seconds_sum[{RI}])) / sum by (job_id) (rate(fleet_trainer_step_seconds_count[{RI}]))", "{{job_id}} step")],
            unit="s")
    b.panel("timeseries", "Data wait / step time", "Above 0.5 for 5 minutes the TrainerStarvedOfData alert fires.",
            [(f"sum by (job_id) (rate(fleet_trainer_data_wait_seconds_sum[{RI}])) / sum by (job_id) (rate(fleet_trainer_step_seconds_sum[{RI}]))", "{{job_id}} teacher"),
             (f"sum by (job_id) (rate(fleet_distiller_data_wait_seconds_sum[{RI}])) / sum by (job_id) (rate(fleet_distiller_step_seconds_sum[{RI}]))", "{{job_id}} student")],
            unit="percentunit", thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 0.5}],
            custom={"thresholdsStyle": {"mode": "line"}})
    b.panel("timeseries", "Longest data wait", "Longest wait for a batch in the recent window, per job.",
            [("max by (job_id) (fleet_trainer_data_wait_seconds_max)", "{{job_id}} teacher"),
             ("max by (job_id) (fleet_distiller_data_wait_seconds_max)", "{{job_id}} student")], unit="s")
    b.panel("timeseries", "Trainer images per second by job", "Compute throughput of each job's current epoch.",
            [("fleet_trainer_images_per_second", "{{job_id}} · {{replica}}")])
    return b


def jvm():
    sel = 'job=~"$service",instance=~"$instance"'
    b = Board("tunefleet-jvm", "TuneFleet / JVM",
              "Heap, GC, threads, CPU and file handles of every service JVM. libtorch's native memory is outside the heap.",
              ["tunefleet"],
              [ds_var(),
               query_var("service", "Service", "label_values(jvm_memory_used_bytes, job)", multi=True, include_all=True, all_value=".*"),
               query_var("instance", "Instance", 'label_values(jvm_memory_used_bytes{job=~"$service"}, instance)', multi=True,
                         include_all=True, all_value=".*")])
    b.row("Memory")
    b.panel("timeseries", "Heap", "Used, committed and max heap per instance.",
            [(f'sum by (job, instance) (jvm_memory_used_bytes{{{sel},area="heap"}})', "used · {{job}} {{instance}}"),
             (f'sum by (job, instance) (jvm_memory_committed_bytes{{{sel},area="heap"}})', "committed · {{job}} {{instance}}"),
             (f'sum by (job, instance) (jvm_memory_max_bytes{{{sel},area="heap"}})', "max · {{job}} {{instance}}")], unit="bytes")
    b.panel("timeseries", "Non-heap and direct buffers", "Metaspace, code cache and direct (NIO) buffers.",
            [(f'sum by (job, instance) (jvm_memory_used_bytes{{{sel},area="nonheap"}})', "non-heap · {{job}} {{instance}}"),
             (f'sum by (job, instance) (jvm_buffer_memory_used_bytes{{{sel},id="direct"}})', "direct · {{job}} {{instance}}")], unit="bytes")
    b.row("Garbage collection")
    b.panel("timeseries", "GC pause time per second", "Fraction of time in GC pauses.",
            [(f"sum by (job, instance, gc) (rate(jvm_gc_pause_seconds_sum{{{sel}}}[{RI}]))", "{{job}} {{instance}} {{gc}}")], w=8, unit="percentunit")
    b.panel("timeseries", "GC pauses per second", "Collections per second.",
            [(f"sum by (job, instance, gc) (rate(jvm_gc_pause_seconds_count{{{sel}}}[{RI}]))", "{{job}} {{instance}} {{gc}}")], w=8)
    b.panel("timeseries", "Allocation rate", "Bytes allocated in the young generation per second.",
            [(f"sum by (job, instance) (rate(jvm_gc_memory_allocated_bytes_total{{{sel}}}[{RI}]))", "{{job}} {{instance}}")], w=8, unit="Bps")
    b.row("CPU and threads")
    b.panel("timeseries", "CPU", "CPU used by the JVM process and the whole machine (0-1 of all cores).",
            [(f"max by (job, instance) (process_cpu_usage{{{sel}}})", "process · {{job}} {{instance}}"),
             (f"max by (instance) (system_cpu_usage{{{sel}}})", "system · {{instance}}")], w=8, unit="percentunit", min_=0, max_=1)
    b.panel("timeseries", "Load average (1 m) and cores", "System load against the cores the JVM sees.",
            [(f"max by (instance) (system_load_average_1m{{{sel}}})", "load · {{instance}}"),
             (f"max by (instance) (system_cpu_count{{{sel}}})", "cores · {{instance}}")], w=8)
    b.panel("timeseries", "Threads", "Live and daemon threads.",
            [(f"max by (job, instance) (jvm_threads_live_threads{{{sel}}})", "live · {{job}} {{instance}}"),
             (f"max by (job, instance) (jvm_threads_daemon_threads{{{sel}}})", "daemon · {{job}} {{instance}}")], w=8, decimals=0)
    b.row("Process")
    b.panel("timeseries", "Open files", "File descriptors in use against the limit.",
            [(f"max by (job, instance) (process_files_open_files{{{sel}}})", "open · {{job}} {{instance}}"),
             (f"max by (job, instance) (process_files_max_files{{{sel}}})", "max · {{job}} {{instance}}")], w=8, decimals=0)
    b.panel("timeseries", "Classes loaded", "Loaded classes.",
            [(f"max by (job, instance) (jvm_classes_loaded_classes{{{sel}}})", "{{job}} {{instance}}")], w=8, decimals=0)
    b.panel("stat", "Uptime", "Time since each JVM started.",
            [(f"max by (job, instance) (process_uptime_seconds{{{sel}}})", "{{job}} {{instance}}")], w=8, unit="s")
    return b


os.makedirs(OUT, exist_ok=True)
for name, board in [("fleet-overview", overview()), ("training-job", training_job()),
                    ("data-pipeline", data_pipeline()), ("jvm", jvm())]:
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(board.json(), f, indent=2)
        f.write("\n")
    print(name, len(board.panels), "panels")
