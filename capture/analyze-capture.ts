import type { CaptureAnalysis } from './capture-analysis.ts';
import { CaptureAnalyzer } from './capture-analyzer.ts';
import { readPcap } from './pcap-reader.ts';
import type { RunScope } from './run-scope.ts';

/** Reads a pcap file and analyses it; with `scope`, diagnoses that run's own flows. */
export async function analyzeCapture(file: string, scope?: RunScope): Promise<CaptureAnalysis> {
  let analyzer: CaptureAnalyzer | undefined;
  const summary = await readPcap(file, (record, header) => {
    analyzer ??= new CaptureAnalyzer(header.linkType);
    analyzer.add(record.timestampUs, record.data);
    return undefined;
  });
  analyzer ??= new CaptureAnalyzer(summary.header.linkType);
  return analyzer.result(file, scope);
}
