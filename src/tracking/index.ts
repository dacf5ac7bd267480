export { EmotionSmoother, type LabelChange, SMOOTHER_DEFAULTS, type SmootherOptions } from './EmotionSmoother.js';
export { FaceTracker, TRACKER_DEFAULTS, type Track, type TrackerOptions, type TrackerStep } from './FaceTracker.js';
export { solveAssignment } from './hungarian.js';
export { KalmanBoxFilter } from './KalmanBoxFilter.js';
