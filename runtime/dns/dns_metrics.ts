/**
 * The cluster DNS server's figures, named as CoreDNS's:
 *
 *   coredns_dns_requests_total{type}              requests answered on the full path, by query type
 *   coredns_dns_responses_total{rcode}            replies by response code
 *   coredns_dns_request_duration_seconds{type}    time to answer (full path)
 *   coredns_cache_hits_total                      UDP replies served from the answer cache
 */
import { noMetrics, type Metrics } from "../../model/metrics.ts";

const TYPES: Record<number, string> = { 1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 255: "ANY" };
const RCODES: Record<number, string> = { 0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED" };

export function dnsMetrics(metrics: Metrics = noMetrics) {
  if (metrics === noMetrics) return undefined;
  const requests = metrics.counter("coredns_dns_requests_total", "Counter of DNS requests made per type.", ["type"]);
  const responses = metrics.counter("coredns_dns_responses_total", "Counter of response status codes.", ["rcode"]);
  const duration = metrics.histogram("coredns_dns_request_duration_seconds", "Histogram of the time (in seconds) each request took.", ["type"], [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]);
  const hits = metrics.counter("coredns_cache_hits_total", "The count of cache hits.", []);
  return {
    answered(qtype: number | undefined, rcode: number, start: number): void {
      const type = (qtype !== undefined && TYPES[qtype]) || "other";
      requests.inc({ type });
      responses.inc({ rcode: RCODES[rcode] ?? String(rcode) });
      duration.observe({ type }, (performance.now() - start) / 1000);
    },
    cacheHit: () => hits.inc(),
  };
}
