import type { Command } from 'commander';
import { CliExit, EXIT_USAGE } from '../cli/cli-exit.ts';

/** `pathwatch analyze`: what a pcap file says about its flows, offline. */
export function addAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description(
      'analyze a pcap file (EN10MB, LINUX_SLL, LINUX_SLL2): per flow SYNs, retransmissions, resets, TLS; DNS queries; and a one-line diagnosis',
    )
    .argument('<pcap-file>', "a classic pcap file, e.g. a run's capture.pcap")
    .option('--json', 'print the analysis as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const { analyzeCapture } = await import('../../capture/analyze-capture.ts');
      const { formatAnalysis } = await import('../../capture/format-analysis.ts');
      const { PcapFormatError } = await import('../../capture/pcap-format-error.ts');
      try {
        const analysis = await analyzeCapture(file);
        console.log(options.json ? JSON.stringify(analysis, null, 2) : formatAnalysis(analysis));
      } catch (error) {
        // A bad file (not a pcap, a directory, unreadable) is one line, never a stack trace.
        if (error instanceof PcapFormatError || typeof (error as NodeJS.ErrnoException).code === 'string') {
          throw new CliExit(EXIT_USAGE, `pathwatch analyze: ${(error as Error).message.split('\n')[0]}`);
        }
        throw error;
      }
    });
}
