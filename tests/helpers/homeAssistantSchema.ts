/**
 * The parts of Home Assistant's MQTT discovery schema our payloads use, written down from its documentation
 * (home-assistant.io: integrations/mqtt "Discovery messages", sensor.mqtt, binary_sensor.mqtt), so a typo in a key
 * (which Home Assistant would silently ignore) or a missing required key fails a test.
 */

/** Options every MQTT entity takes (availability, device, entity registry, discovery). */
const COMMON = [
  'availability',
  'availability_mode',
  'availability_template',
  'availability_topic',
  'default_entity_id',
  'device',
  'device_class',
  'enabled_by_default',
  'encoding',
  'entity_category',
  'entity_picture',
  'expire_after',
  'force_update',
  'icon',
  'json_attributes_template',
  'json_attributes_topic',
  'name',
  'object_id',
  'origin',
  'payload_available',
  'payload_not_available',
  'platform',
  'qos',
  'state_topic',
  'unique_id',
  'value_template',
];

export const HA_KEYS: Record<string, Set<string>> = {
  sensor: new Set([
    ...COMMON,
    'last_reset_value_template',
    'options',
    'state_class',
    'suggested_display_precision',
    'unit_of_measurement',
  ]),
  binary_sensor: new Set([...COMMON, 'off_delay', 'payload_off', 'payload_on']),
};

const DEVICE_KEYS = new Set([
  'configuration_url',
  'connections',
  'hw_version',
  'identifiers',
  'manufacturer',
  'model',
  'model_id',
  'name',
  'serial_number',
  'suggested_area',
  'sw_version',
  'via_device',
]);
const AVAILABILITY_KEYS = new Set(['payload_available', 'payload_not_available', 'topic', 'value_template']);
const ORIGIN_KEYS = new Set(['name', 'sw_version', 'support_url']);
const SENSOR_STATE_CLASSES = new Set(['measurement', 'measurement_angle', 'total', 'total_increasing']);
const BINARY_DEVICE_CLASSES = new Set(['occupancy', 'presence', 'motion', 'problem', 'connectivity', 'running']);
const ID = /^[a-zA-Z0-9_-]+$/;

/** Problems of one discovery message (topic and parsed payload); empty when Home Assistant would take it. */
export function discoveryProblems(topic: string, payload: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const parts = topic.split('/');
  // <discovery_prefix>/<component>/[<node_id>/]<object_id>/config
  const component = parts[1] ?? '';
  if (parts.at(-1) !== 'config' || parts.length < 4 || parts.length > 5) problems.push(`bad topic ${topic}`);
  for (const id of parts.slice(2, -1)) if (!ID.test(id)) problems.push(`id "${id}" is not [a-zA-Z0-9_-]`);
  const allowed = HA_KEYS[component];
  if (!allowed) return [...problems, `unsupported component ${component}`];
  for (const key of Object.keys(payload)) if (!allowed.has(key)) problems.push(`unknown key ${key}`);
  if (typeof payload.state_topic !== 'string' || !payload.state_topic) problems.push('state_topic is required');
  if (/[#+]/.test(String(payload.state_topic))) problems.push('state_topic has a wildcard');
  if (typeof payload.unique_id !== 'string' || !payload.unique_id) problems.push('unique_id is required (device)');
  const device = payload.device as Record<string, unknown> | undefined;
  if (!device || typeof device !== 'object') problems.push('device is required');
  else {
    for (const key of Object.keys(device)) if (!DEVICE_KEYS.has(key)) problems.push(`unknown device key ${key}`);
    const ids = device.identifiers;
    if (!(Array.isArray(ids) && ids.length > 0) && !device.connections) problems.push('device needs identifiers');
    if (typeof device.name !== 'string' || !device.name) problems.push('device needs a name');
  }
  const origin = payload.origin as Record<string, unknown> | undefined;
  if (origin) {
    for (const key of Object.keys(origin)) if (!ORIGIN_KEYS.has(key)) problems.push(`unknown origin key ${key}`);
    if (typeof origin.name !== 'string') problems.push('origin needs a name');
  }
  if (payload.availability !== undefined) {
    if (payload.availability_topic !== undefined) problems.push('availability and availability_topic together');
    if (!Array.isArray(payload.availability) || payload.availability.length === 0) problems.push('bad availability');
    else
      for (const a of payload.availability as Record<string, unknown>[]) {
        if (typeof a.topic !== 'string' || !a.topic) problems.push('availability entry needs a topic');
        for (const key of Object.keys(a))
          if (!AVAILABILITY_KEYS.has(key)) problems.push(`unknown availability key ${key}`);
      }
  }
  if (payload.availability_mode !== undefined && !['all', 'any', 'latest'].includes(String(payload.availability_mode)))
    problems.push('bad availability_mode');
  if (payload.entity_category !== undefined) {
    const ok = component === 'sensor' ? ['diagnostic'] : ['diagnostic', 'config'];
    if (!ok.includes(String(payload.entity_category))) problems.push('bad entity_category');
  }
  if (component === 'sensor') {
    if (payload.device_class === 'enum') {
      if (!Array.isArray(payload.options) || payload.options.length === 0) problems.push('enum needs options');
      if (payload.state_class !== undefined || payload.unit_of_measurement !== undefined)
        problems.push('options cannot go with state_class or unit_of_measurement');
    } else if (payload.options !== undefined) problems.push('options need device_class enum');
    if (payload.state_class !== undefined && !SENSOR_STATE_CLASSES.has(String(payload.state_class)))
      problems.push('bad state_class');
  }
  if (component === 'binary_sensor' && payload.device_class !== undefined) {
    if (!BINARY_DEVICE_CLASSES.has(String(payload.device_class))) problems.push('unexpected binary device_class');
  }
  return problems;
}
