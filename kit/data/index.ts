/**
 * PostgreSQL: pools with bounded statements, migrations, group commit, and the transactional
 * outbox with its relay.
 */
export { connectDb, migrate, openMigrated, isUniqueViolation, type Sql, type Tx, type DbTimeouts } from './postgres.ts'
export { grouped, sharedPerKey } from './group-commit.ts'
export { createRelay, eventsCommitted, eventsOf, newEvent, outboxRow, transactionWithEvents, type OutboxEvent, type Relay } from './outbox.ts'
