// `lmkit launch`: run N local processes of a command with torchrun's environment, for `--backend tcp` training on one machine (or one node of many).
import type { Command } from 'commander';
import { launchProcesses } from '@lmkit/train';
import { action, parsePositiveInt, printResult, UsageError, type GlobalOptions } from '../io.js';

/** Registers `lmkit launch --nproc N -- <command ...>`. */
export function registerLaunchCommand(program: Command): void {
  program
    .command('launch')
    .description('start N processes of a command with RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT set, like torchrun; one failing stops all')
    .requiredOption('--nproc <n>', 'processes on this machine', parsePositiveInt('--nproc'))
    .option('--nnodes <n>', 'machines in the job (default 1)', parsePositiveInt('--nnodes'))
    .option('--node-rank <n>', 'index of this machine, 0-based (default 0)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--node-rank must be a non-negative integer, got "${v}"`);
      return n;
    })
    .option('--master-addr <host>', 'host of rank 0 (default 127.0.0.1)')
    .option('--master-port <port>', 'rendezvous port (default 29500)', parsePositiveInt('--master-port'))
    .argument('<command...>', 'the command to run after --, e.g. -- lmkit train --config run.json --parallel dp=2 --backend tcp')
    .allowUnknownOption(true)
    .action(
      action(async (argv: string[], flags: { nproc: number; nnodes?: number; nodeRank?: number; masterAddr?: string; masterPort?: number }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        if (argv.length === 0) throw new UsageError('lmkit launch needs a command after --', 'e.g. lmkit launch --nproc 2 -- lmkit train --config run.json --parallel dp=2 --backend tcp');
        const nnodes = flags.nnodes ?? 1;
        const nodeRank = flags.nodeRank ?? 0;
        if (nodeRank >= nnodes) throw new UsageError(`--node-rank ${nodeRank} must be below --nnodes ${nnodes}`);
        // NOTE: `lmkit` after -- runs this same CLI with this same node, so it works without lmkit on PATH.
        const [cmd, ...args] = argv[0] === 'lmkit' ? [process.execPath, process.argv[1], ...argv.slice(1)] : argv;
        const result = await launchProcesses({
          nproc: flags.nproc, command: cmd, args, worldSize: flags.nproc * nnodes, rankOffset: nodeRank * flags.nproc,
          ...(flags.masterAddr ? { masterAddr: flags.masterAddr } : {}), ...(flags.masterPort ? { masterPort: flags.masterPort } : {}),
        });
        printResult(global, { nproc: flags.nproc, codes: result.codes, signals: result.signals, first_failure: result.firstFailure },
          result.firstFailure < 0 ? `launch: ${flags.nproc} processes finished` : `launch: rank ${result.firstFailure} failed (exit ${result.codes[result.firstFailure - nodeRank * flags.nproc] ?? 'signal'}); the others were stopped`);
        if (result.firstFailure >= 0) process.exitCode = result.codes[result.firstFailure - nodeRank * flags.nproc] || 1;
      }),
    );
}
