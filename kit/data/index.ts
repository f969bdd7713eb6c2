/**
 * PostgreSQL: pools with bounded statements, migrations, group commit, and the transactional
 * outbox with its relay.
 */
export { connectDb, migrate, openMigrated, isUniqueViolation, type Sql, type Tx, type DbTimeouts } from './postgres.ts'
export { grouped, sharedPerKey } from './group-commit.ts'
export { createOutbox, type Outbox, type OutboxEvent, type OutboxStatement, type OutboxTransaction, type Fragment, type ServiceOutbox } from './outbox.ts'
export { createRelay, type PublishedEvent, type PublishedHooks, type Relay, type RelaySettings } from './relay.ts'
