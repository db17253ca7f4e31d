import {
  type DnsQueryAnalysis,
  endpointText,
  plural,
  SEVERITY,
  type TcpFlowAnalysis,
  type Verdict,
} from './capture-analysis.ts';
import type { RunScope } from './run-scope.ts';

export function problemsOf(
  flows: TcpFlowAnalysis[],
  queries: DnsQueryAnalysis[],
): { verdict: Verdict; text: string }[] {
  const problems: { verdict: Verdict; text: string }[] = [];
  for (const flow of flows) {
    if (flow.verdict !== 'ok') problems.push({ verdict: flow.verdict, text: flow.diagnosis });
  }
  for (const query of queries) {
    const what = `DNS query ${query.type} ${query.name} to ${endpointText(query.server)}`;
    if (!query.answered) {
      problems.push({
        verdict: 'dns_unanswered',
        text: `${what} got no answer${query.attempts > 1 ? ` (${query.attempts} attempts)` : ''}`,
      });
    } else if (query.malformed) {
      problems.push({ verdict: 'dns_malformed', text: `${what} was answered with a ${query.malformed}` });
    } else if (query.rcode && query.rcode !== 'NOERROR') {
      problems.push({ verdict: 'dns_error', text: `${what} was answered ${query.rcode}` });
    }
  }
  return problems.sort((x, y) => SEVERITY.indexOf(x.verdict) - SEVERITY.indexOf(y.verdict));
}

const CONNECT_ERRORS = new Set(['refused', 'unreachable', 'connect_timeout']);

/**
 * The probe saw a connect error, yet none of the run's packets is on the wire: they never
 * left this host (an OUTPUT firewall rule, a missing route). Blaming the path or the
 * target would be wrong; the capture shows what it can only when other traffic proves the
 * capture sees this interface.
 */
export function notSent(
  scope: RunScope,
  flows: TcpFlowAnalysis[],
  queries: DnsQueryAnalysis[],
  packets: number,
): { verdict: Verdict; diagnosis: string } | undefined {
  if (!scope.error || !CONNECT_ERRORS.has(scope.error.class) || flows.length > 0) return undefined;
  const saw = `the probe saw "${scope.error.message}"`;
  const proof =
    packets > 0 || queries.length > 0
      ? 'though the capture holds other traffic of the window'
      : 'and the capture holds nothing else (if the capture does not see this interface, it cannot tell)';
  const route =
    scope.error.class === 'unreachable'
      ? 'this host has no route to the target (check its routing table), or a local firewall rejects it'
      : 'a local firewall (OUTPUT rule) or route stops it';
  return {
    verdict: 'not_sent',
    diagnosis: `the probe host did not send: no packet of this run left the host, ${saw} ${proof}: ${route}`,
  };
}

/**
 * Where unanswered packets are lost. One vantage point cannot tell a path that drops them
 * from a target that drops them; the other locations' runs of the same slot can: failing
 * from everywhere alike is the target (the verdict says `service`), while another location
 * that gets through puts the loss on this location's path. Without them (one location, a
 * run-now, `pathwatch analyze` on a file, or their runs not in yet) nobody is named.
 */
function lostWhere(scope: RunScope | undefined): { verdict: Verdict; text: string } {
  if (scope?.elsewhere === 'all-failing')
    return {
      verdict: 'dropped_at_target',
      text: 'every location fails alike, so the target (or its own firewall) drops them, not a path',
    };
  if (scope?.elsewhere === 'others-passing')
    return {
      verdict: 'dropped_on_path',
      text: 'packets are dropped on the path from this location (other locations reach the target)',
    };
  return {
    verdict: 'dropped',
    text: "packets are lost on the way or dropped by the target (no other location's run of this slot to tell which)",
  };
}

export function diagnoseFlow(
  flow: TcpFlowAnalysis,
  scope?: RunScope,
): { verdict: Verdict; diagnosis: string } {
  const server = endpointText(flow.server);
  const serverReset = flow.resets.find((reset) => reset.from === 'server');
  const serverAlert = flow.tlsAlerts.find(
    (alert) => alert.from === 'server' && alert.name !== 'close_notify',
  );
  if (flow.synsSent > 0 && flow.synAcks === 0) {
    if (serverReset) {
      return {
        verdict: 'refused',
        diagnosis: `server ${server} refused the connection (RST in answer to SYN): nothing listens there, or a firewall rejects it`,
      };
    }
    const icmp = flow.unreachable[0];
    if (icmp?.routing) {
      return {
        verdict: 'unreachable',
        diagnosis: `${icmp.from} answered the SYN to ${server} with ICMP ${icmp.reason}: no route to the target beyond ${icmp.from} (check the routing on the path)`,
      };
    }
    if (icmp) {
      const byTarget = icmp.from === flow.server.ip;
      return {
        verdict: 'refused',
        diagnosis: `${byTarget ? `server ${server}` : `${icmp.from}, on the way to ${server},`} refused the connection (ICMP ${icmp.reason} in answer to SYN): a firewall rejects it${byTarget ? ', or nothing listens there' : ''}`,
      };
    }
    const lost = lostWhere(scope);
    return {
      verdict: lost.verdict,
      diagnosis: `${plural(flow.synsSent, 'SYN')} to ${server} got no answer: ${lost.text}`,
    };
  }
  const timeout = scope?.timeoutMs;
  const clientResetLate = flow.resets.find((reset) => reset.from === 'client' && !reset.afterHandshake);
  if (
    flow.synAcks > 0 &&
    flow.handshakeMs !== undefined &&
    !flow.handshakeComplete &&
    ((timeout !== undefined && flow.handshakeMs > timeout) || clientResetLate)
  ) {
    // The SYN-ACK came after the client had given up: its kernel answers it with a RST.
    // That RST is the client's socket being gone, not a fault: the handshake was slow.
    const answered = `SYN answered in ${Math.round(flow.handshakeMs)} ms`;
    return {
      verdict: 'slow_handshake',
      diagnosis: `server ${server} accepted too late: ${answered}, ${timeout !== undefined ? `after the ${timeout} ms timeout` : 'after the client had given up'}${flow.synRetransmissions > 0 ? ` (${plural(flow.synRetransmissions, 'SYN retransmission')})` : ''}`,
    };
  }
  if (serverAlert) {
    return {
      verdict: 'tls_alert',
      diagnosis: `server ${server} sent TLS alert ${serverAlert.name} (${serverAlert.level}, ${serverAlert.description})${flow.tlsServerName ? ` for ${flow.tlsServerName}` : ''}`,
    };
  }
  if (serverReset) {
    const afterHello = flow.tlsServerName !== undefined && flow.bytesFromServer === 0;
    return {
      verdict: 'reset_by_server',
      diagnosis: afterHello
        ? `server ${server} reset the connection after the TLS ClientHello (SNI ${flow.tlsServerName})`
        : `server ${server} reset the connection (RST) ${serverReset.afterHandshake ? 'after the handshake' : 'during the handshake'}${flow.bytesFromServer === 0 && flow.requests > 0 ? `: ${plural(flow.requests, 'request')} sent, no response data` : ''}`,
    };
  }
  if (flow.handshakeComplete && flow.bytesFromClient > 0 && flow.bytesFromServer === 0) {
    if (flow.fromClient.dataRetransmissions > 0) {
      const lost = lostWhere(scope);
      return {
        verdict: lost.verdict,
        diagnosis: `server ${server} accepted the connection, then ${plural(flow.fromClient.dataRetransmissions, 'retransmission')} of the request got no answer: ${lost.text}`,
      };
    }
    return {
      verdict: 'no_response',
      diagnosis: `server ${server} accepted the connection but never answered: ${plural(flow.requests, 'request')} sent, no response data`,
    };
  }
  if (flow.dataRetransmissions > 0) {
    return {
      verdict: 'retransmissions',
      diagnosis: `${plural(flow.dataRetransmissions, 'data retransmission')} on the connection to ${server}: packets are lost on the path`,
    };
  }
  const clientReset = flow.resets.find((reset) => reset.from === 'client');
  if (clientReset) {
    return {
      verdict: 'reset_by_client',
      diagnosis: `client ${endpointText(flow.client)} reset the connection to ${server}`,
    };
  }
  return {
    verdict: 'ok',
    diagnosis: `connection to ${server}: ${flow.bytesFromClient} bytes sent, ${flow.bytesFromServer} bytes received`,
  };
}
