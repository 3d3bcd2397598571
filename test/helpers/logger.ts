import pino from 'pino';

/** Tests keep logs out of the way unless TEST_LOG_LEVEL asks for them. */
export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
