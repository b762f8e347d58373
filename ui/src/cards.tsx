/**
 * The side panel's cards: a controller's desired / current / ready (RCs, ReplicaSets,
 * Deployments, StatefulSets, DaemonSets), a Job's completions, a CronJob's schedule, and a
 * disruption budget's healthy pods and allowed disruptions. Each card's name is a button that
 * highlights the pods its selector picks (a CronJob has none: its Jobs beneath have).
 */
import type { BudgetView, ControllerView, CronJobView, JobView } from "../../runtime/ui/view.ts";
import { budgetRule, fmtClock, fmtControllerSelector, fmtSpec, jobCompletions, KIND_BADGE, KIND_WORDS } from "./describe.ts";

/** The green (ready or done) and amber (there but not yet) parts of a card's bar, out of `max`. */
function Bar({ done, busy, max, label }: { done: number; busy: number; max: number; label: string }) {
  const whole = Math.max(max, 1);
  return (
    <div class="bar" role="img" aria-label={label}>
      <span class="bar-ready" style={{ width: `${(100 * Math.min(done, whole)) / whole}%` }} />
      <span class="bar-current" style={{ width: `${(100 * Math.min(Math.max(0, busy), whole - Math.min(done, whole))) / whole}%` }} />
    </div>
  );
}

function NameButton({ kind, name, onFocus }: { kind: keyof typeof KIND_WORDS; name: string; onFocus: () => void }) {
  return <button type="button" class="link rc-name" onClick={onFocus} aria-label={`${KIND_WORDS[kind]} ${name}; highlight its pods`}>{name}</button>;
}

const Badge = ({ kind }: { kind: keyof typeof KIND_BADGE }) => <span class="badge" title={kind}>{KIND_BADGE[kind]}</span>;

/** An RC, ReplicaSet, Deployment, StatefulSet or DaemonSet (whose counts are of nodes). */
export function ControllerCard({ rc, child, onFocus, onScale }: { rc: ControllerView; child: boolean; onFocus: () => void; onScale?: () => void }) {
  const rcAttr = rc.kind === "ReplicationController" ? { "data-rc": rc.name } : {};
  return (
    <article class={`rc${child ? " rc-child" : ""}`} {...rcAttr} data-controller={`${rc.kind}/${rc.namespace}/${rc.name}`}>
      <header>
        <NameButton kind={rc.kind} name={rc.name} onFocus={onFocus} />
        <Badge kind={rc.kind} />
        {onScale && <button type="button" class="button small" onClick={onScale}>Scale…</button>}
      </header>
      <dl class="rc-counts">
        <div><dt>desired</dt><dd data-testid="rc-desired">{rc.desired}</dd></div>
        <div><dt>current</dt><dd data-testid="rc-current">{rc.current}</dd></div>
        <div><dt>ready</dt><dd data-testid="rc-ready">{rc.ready}</dd></div>
        {rc.updated !== undefined && <div><dt>updated</dt><dd data-testid="rc-updated">{rc.updated}</dd></div>}
      </dl>
      <Bar done={rc.ready} busy={rc.current - rc.ready} max={Math.max(rc.desired, rc.current)} label={`${rc.ready} of ${rc.desired} ready${rc.kind === "DaemonSet" ? " (nodes)" : ""}`} />
      <p class="sel">{fmtControllerSelector(rc)}</p>
    </article>
  );
}

const CONDITION_CLASS = { Complete: "st-complete", Failed: "st-failed", Suspended: "st-suspended" } as const;

/** A Job: successes of its completions, active and failed pods, and how it ended. */
export function JobCard({ job, child, onFocus }: { job: JobView; child: boolean; onFocus: () => void }) {
  const goal = job.completions ?? Math.max(job.succeeded + job.active, 1);
  return (
    <article class={`rc${child ? " rc-child" : ""}`} data-controller={`Job/${job.namespace}/${job.name}`}>
      <header>
        <NameButton kind="Job" name={job.name} onFocus={onFocus} />
        <Badge kind="Job" />
        {job.condition && (
          <span class={`badge ${CONDITION_CLASS[job.condition]}`} data-testid="job-condition" title={job.reason}>{job.condition}{job.reason ? `: ${job.reason}` : ""}</span>
        )}
      </header>
      <dl class="rc-counts">
        <div><dt>{job.completions === undefined ? "succeeded" : "completions"}</dt><dd data-testid="job-completions">{jobCompletions(job)}</dd></div>
        <div><dt>active</dt><dd data-testid="job-active">{job.active}</dd></div>
        <div><dt>failed</dt><dd data-testid="job-failed">{job.failed}</dd></div>
      </dl>
      <Bar done={job.succeeded} busy={job.active} max={goal} label={`${job.succeeded}${job.completions === undefined ? "" : ` of ${job.completions}`} succeeded, ${job.active} active`} />
      <p class="sel">{fmtSpec(job.selector)}</p>
    </article>
  );
}

/** A CronJob: its schedule, whether it is suspended, when it last ran and how many runs are active. */
export function CronJobCard({ cj }: { cj: CronJobView }) {
  return (
    <article class="rc" data-controller={`CronJob/${cj.namespace}/${cj.name}`}>
      <header>
        <span class="rc-name">{cj.name}</span>
        <Badge kind="CronJob" />
        {cj.suspend && <span class="badge st-suspended" data-testid="cj-suspended">Suspended</span>}
      </header>
      <dl class="rc-counts">
        <div><dt>schedule</dt><dd class="text mono" data-testid="cj-schedule">{cj.schedule}{cj.timeZone ? ` (${cj.timeZone})` : ""}</dd></div>
        <div><dt>active</dt><dd class="text" data-testid="cj-active">{cj.active}</dd></div>
        <div>
          <dt>last schedule</dt>
          <dd class="text" data-testid="cj-last">{cj.lastSchedule ? <time dateTime={cj.lastSchedule}>{fmtClock(cj.lastSchedule)}</time> : "never"}</dd>
        </div>
      </dl>
    </article>
  );
}

/** A disruption budget: its rule, healthy pods against the healthy it needs, and the disruptions it allows now. */
export function BudgetCard({ pdb, onFocus }: { pdb: BudgetView; onFocus: () => void }) {
  const blocked = pdb.disruptionsAllowed === 0;
  return (
    <article class={`rc${blocked ? " rc-blocked" : ""}`} data-controller={`PodDisruptionBudget/${pdb.namespace}/${pdb.name}`}>
      <header>
        <NameButton kind="PodDisruptionBudget" name={pdb.name} onFocus={onFocus} />
        <Badge kind="PodDisruptionBudget" />
        <span class="rule" data-testid="pdb-rule">{budgetRule(pdb)}</span>
      </header>
      <dl class="rc-counts">
        <div><dt>healthy</dt><dd data-testid="pdb-healthy">{pdb.currentHealthy}/{pdb.desiredHealthy}</dd></div>
        <div><dt>expected</dt><dd data-testid="pdb-expected">{pdb.expectedPods}</dd></div>
        <div class={blocked ? "count-warn" : ""}><dt>disruptions allowed</dt><dd data-testid="pdb-allowed">{pdb.disruptionsAllowed}</dd></div>
      </dl>
      {blocked && <p class="note-warn" data-testid="pdb-warning">No disruption allowed: evictions of its pods wait.</p>}
      {pdb.problem && <p class="note-warn">{pdb.problem}</p>}
      <p class="sel">{fmtSpec(pdb.selector)}</p>
    </article>
  );
}
