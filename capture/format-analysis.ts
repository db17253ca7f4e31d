import {
  type CaptureAnalysis,
  type DnsQueryAnalysis,
  endpointText,
  plural,
  type TcpFlowAnalysis,
} from './capture-analysis.ts';

function flowLine(flow: TcpFlowAnalysis): string {
  const parts = [
    `tcp ${endpointText(flow.client)} -> ${endpointText(flow.server)}: ${flow.packets} packets (${flow.fromClient.packets} sent, ${flow.fromServer.packets} received)`,
  ];
  if (flow.synSeen) {
    parts.push(
      flow.synAcks > 0
        ? `SYN answered in ${flow.handshakeMs?.toFixed(1)} ms${flow.synRetransmissions > 0 ? ` after ${plural(flow.synRetransmissions, 'SYN retransmission')}` : ''}`
        : `${plural(flow.synsSent, 'SYN')}, none answered`,
    );
  } else {
    parts.push('no SYN in the capture (started mid-connection)');
  }
  parts.push(`bytes ${flow.bytesFromClient} sent / ${flow.bytesFromServer} received`);
  if (flow.retransmissions > 0) parts.push(plural(flow.retransmissions, 'retransmission'));
  for (const reset of flow.resets) parts.push(`RST from ${reset.from}`);
  if (flow.finFromClient || flow.finFromServer) {
    parts.push(
      `FIN from ${[flow.finFromClient && 'client', flow.finFromServer && 'server'].filter(Boolean).join(' and ')}`,
    );
  }
  if (flow.zeroWindows.client + flow.zeroWindows.server > 0) {
    parts.push(`zero windows ${flow.zeroWindows.client} client / ${flow.zeroWindows.server} server`);
  }
  if (flow.tlsServerName) parts.push(`SNI ${flow.tlsServerName}`);
  for (const alert of flow.tlsAlerts) parts.push(`TLS alert ${alert.name} from ${alert.from}`);
  for (const icmp of flow.unreachable) parts.push(`ICMP ${icmp.reason} from ${icmp.from}`);
  if (flow.ownRun === false) parts.push("another run's flow");
  return `  ${parts.join(', ')}`;
}

function queryLine(query: DnsQueryAnalysis): string {
  const outcome = query.answered
    ? `${query.rcode}${query.answers.length > 0 ? ` ${query.answers.join(', ')}` : ''}${query.responseMs !== undefined ? ` in ${query.responseMs.toFixed(1)} ms` : ''}`
    : `no answer${query.attempts > 1 ? ` after ${query.attempts} attempts` : ''}`;
  return `  dns ${query.type} ${query.name} -> ${endpointText(query.server)} (id ${query.id}): ${outcome}`;
}

/** The analysis as text for an email or a terminal: diagnosis first, then one line per flow and query. */
export function formatAnalysis(analysis: CaptureAnalysis): string {
  const seconds =
    analysis.firstMs !== undefined && analysis.lastMs !== undefined
      ? ((analysis.lastMs - analysis.firstMs) / 1000).toFixed(3)
      : '0';
  const lines = [
    `diagnosis: ${analysis.diagnosis}`,
    `${analysis.file ? `${analysis.file}: ` : ''}${analysis.packets} packets over ${seconds} s, ${plural(analysis.tcpFlows.length, 'TCP flow')}, ${`${analysis.dns.queries.length} DNS quer${analysis.dns.queries.length === 1 ? 'y' : 'ies'}`}`,
    ...analysis.tcpFlows.map(flowLine),
    ...analysis.dns.queries.map(queryLine),
  ];
  if (analysis.diagnoses.length > 1)
    lines.push('other problems:', ...analysis.diagnoses.slice(1).map((text) => `  ${text}`));
  if (analysis.context.length > 0)
    lines.push('in the window, not this run:', ...analysis.context.map((text) => `  ${text}`));
  if (analysis.duplicates > 0) lines.push(`${plural(analysis.duplicates, 'duplicate frame')} counted once`);
  if (analysis.malformed.count > 0)
    lines.push(
      `${plural(analysis.malformed.count, 'malformed packet')} not decoded: ${analysis.malformed.examples.join('; ')}`,
    );
  return lines.join('\n');
}
