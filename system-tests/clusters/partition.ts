/**
 * A real network partition between processes on one machine, with nftables on the loopback
 * interface. Every member has a distribution port it listens on (127.0.0.1:<distPort>) and a
 * loopback address of its own it connects *from* (127.0.0.1x, set as the source of its outgoing
 * distribution connections). That tells each connection's two ends apart, so an isolated member's
 * traffic to and from the others is dropped, silently, as a cut cable would: nothing is reset,
 * the peers notice only when their heartbeats go unanswered. Connections from 127.0.0.1 (the CLI
 * tools, clients) are left alone, so an operator can still look at both sides.
 */
import { writeFileSync, rmSync } from 'node:fs'
import { run } from './daemons.ts'

export type Member = { sourceAddress: string; distPort: number }

export type Partitions = {
  /** cut `member` off from every other member (both directions) */
  isolate(member: Member): Promise<void>
  /** give `member` its links back */
  rejoin(member: Member): Promise<void>
  /** remove every rule this table holds */
  clear(): Promise<void>
}

export function nftPartitions(table: string, members: Member[]): Partitions {
  const isolated = new Set<Member>()
  const apply = async () => {
    const rules = [...isolated].flatMap((cut) => {
      const others = members.filter((m) => m !== cut)
      const ports = others.map((m) => m.distPort).join(', ')
      const addresses = others.map((m) => m.sourceAddress).join(', ')
      return [
        `ip saddr ${cut.sourceAddress} tcp dport { ${ports} } drop`,
        `ip daddr ${cut.sourceAddress} tcp sport { ${ports} } drop`,
        `ip saddr { ${addresses} } tcp dport ${cut.distPort} drop`,
        `ip daddr { ${addresses} } tcp sport ${cut.distPort} drop`,
      ]
    })
    // "add" then "delete" makes the delete safe when the table is not there yet; one file, one transaction
    const script = [`add table inet ${table}`, `delete table inet ${table}`]
    if (rules.length)
      script.push(
        `table inet ${table} {`,
        '  chain output {',
        '    type filter hook output priority 0; policy accept;',
        ...rules.map((r) => `    ${r}`),
        '  }',
        '}',
      )
    await nft(script.join('\n'))
  }
  return {
    async isolate(member) {
      isolated.add(member)
      await apply()
    },
    async rejoin(member) {
      isolated.delete(member)
      await apply()
    },
    async clear() {
      isolated.clear()
      await apply()
    },
  }
}

async function nft(script: string) {
  const file = `/tmp/.nft-${process.pid}-${Date.now()}.nft`
  writeFileSync(file, `${script}\n`)
  try {
    await run('nft', ['-f', file])
  } catch (e) {
    throw new Error(`${String(e)}\n(partitions need nftables and CAP_NET_ADMIN: apt-get install -y nftables, run as root)`)
  } finally {
    rmSync(file, { force: true })
  }
}
