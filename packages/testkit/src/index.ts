export * from './system';
export * from './servers';
export * from './ports';
export * from './wait';
export * from './collect';
export * from './raw-viewer';
